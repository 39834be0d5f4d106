"""Boot images as Terraform's google provider reads them, and their resolution into a source image the
insert accepts. The forms (`ImageRef.parse`): a full URL, `projects/P/global/images/family/F`,
`projects/P/global/images/I`, `global/images/family/F`, `global/images/I`, `family/F`, `P/X` and a bare
`X`. The last three are ambiguous: like Terraform, `P/X` is the image X of project P if it exists, else
the family X of P (`debian-cloud/debian-12-bookworm-v20260101` is an image, `debian-cloud/debian-12` a
family); a bare `X` is tried as an image and a family of the provider's project, then of the public
project its name points to (`debian...` -> debian-cloud). Resolution asks the API (`images.get`,
`images.getFromFamily`) through a `lookup` the caller passes in, so this module loads no SDK.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from reconciler.errors import ProviderError

NAME = r"[-_a-zA-Z0-9]+"
PROJECT = (r"(?:(?:[-a-z0-9]{1,63}\.)*(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?):)?"
           r"(?:[0-9]{1,19}|(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?))")
_FORMS = [
    ("link", re.compile(rf"^https://(?:www|compute)\.googleapis\.com/compute/[a-z0-9]+/projects/({PROJECT})"
                        rf"/global/images/(family/)?({NAME})$")),
    ("project", re.compile(rf"^projects/({PROJECT})/global/images/(family/)?({NAME})$")),
    ("global", re.compile(rf"^global/images/(family/)?({NAME})$")),
    ("family", re.compile(rf"^family/({NAME})$")),
    ("shorthand", re.compile(rf"^({PROJECT})/({NAME})$")),
    ("bare", re.compile(rf"^({NAME})$")),
]
# public projects Terraform looks in for a bare name containing the key
PUBLIC_PROJECTS = {"centos": "centos-cloud", "cos": "cos-cloud", "debian": "debian-cloud", "opensuse": "opensuse-cloud",
                   "rhel": "rhel-cloud", "rocky-linux": "rocky-linux-cloud", "sles": "suse-cloud",
                   "ubuntu": "ubuntu-os-cloud", "windows": "windows-cloud"}
FORMS_HINT = ("write projects/P/global/images/family/F, projects/P/global/images/IMAGE, P/IMAGE-OR-FAMILY, "
              "family/F, global/images/IMAGE or a bare image or family name")


class Kind(Enum):
    IMAGE = "image"
    FAMILY = "family"
    EITHER = "image or family"  # decided by asking the API


@dataclass(frozen=True)
class ImageRef:
    project: str | None  # "": the provider's project; None: it, then the public project the name points to
    name: str
    kind: Kind

    @classmethod
    def parse(cls, text: str) -> ImageRef | None:
        """The reference a configuration's `image` names, or None when it has none of the accepted forms."""
        for form, pattern in _FORMS:
            m = pattern.match(text)
            if m is None:
                continue
            if form in ("link", "project"):
                return cls(m.group(1), m.group(3), Kind.FAMILY if m.group(2) else Kind.IMAGE)
            if form == "global":
                return cls("", m.group(2), Kind.FAMILY if m.group(1) else Kind.IMAGE)
            if form == "family":
                return cls(None, m.group(1), Kind.FAMILY)
            if form == "shorthand":
                return cls(m.group(1), m.group(2), Kind.EITHER)
            return cls(None, m.group(1), Kind.EITHER)
        return None

    def candidates(self, own_project: str) -> list[tuple[str, Kind, str]]:
        """(project, kind, name) to try in Terraform's order."""
        if self.project == "":
            return [(own_project, self.kind, self.name)]
        if self.project is not None:
            kinds = [Kind.IMAGE, Kind.FAMILY] if self.kind is Kind.EITHER else [self.kind]
            return [(self.project, k, self.name) for k in kinds]
        public = next((p for key, p in PUBLIC_PROJECTS.items() if key in self.name), None)
        projects = [own_project] + ([public] if public and public != own_project else [])
        kinds = [Kind.IMAGE, Kind.FAMILY] if self.kind is Kind.EITHER else [self.kind]
        return [(p, k, self.name) for k in kinds for p in projects]


def source_path(project: str, kind: Kind, name: str) -> str:
    if kind is Kind.FAMILY:
        return f"projects/{project}/global/images/family/{name}"
    return f"projects/{project}/global/images/{name}"


def resolve(text: str, own_project: str, exists: Callable[[str, Kind, str], bool]) -> str:
    """The `sourceImage` for a configured image; `exists(project, kind, name)` asks the API."""
    ref = ImageRef.parse(text)
    if ref is None:
        raise ProviderError(f'image "{text}" has none of the forms the google provider accepts', hint=FORMS_HINT)
    tried = ref.candidates(own_project)
    if len(tried) == 1:
        return source_path(*tried[0])  # an explicit path: the insert itself says if it does not exist
    for project, kind, name in tried:
        if exists(project, kind, name):
            return source_path(project, kind, name)
    looked = ", ".join(source_path(*t) for t in tried)
    raise ProviderError(f'could not find image or family "{text}" (looked for {looked})',
                        hint="check the name with `gcloud compute images list`, or write the full path")
