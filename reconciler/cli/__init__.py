"""The command line: a thin layer that parses arguments, builds the pieces and prints results."""
