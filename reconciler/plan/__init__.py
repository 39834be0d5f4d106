"""Plans: what will change, why, in which order, and how to show it."""
