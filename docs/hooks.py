"""MkDocs hooks: the site also publishes files that live outside docs/: figures/*.png,
notebooks/*.ipynb, and three Markdown files (the figure index, the notebook index, SECURITY.md).

Every page links files as they sit in the repository (``../figures/fig2_capacity.png`` from
``docs/results.md``, ``../docs/results.md`` from ``figures/README.md``), which works when the
Markdown is read on its own, on GitHub or in an editor. Here those files are added to the
site (before mkdocs-jupyter looks for notebooks to render) and each such link is rewritten to
point at the site's copy.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
#: repository folder -> the files of it the site carries
PUBLISHED = {"figures": "*.png", "notebooks": "*.ipynb"}
#: single repository files -> their page in the site
PAGES = {
    "SECURITY.md": "security.md",
    "figures/README.md": "figures.md",
    "notebooks/README.md": "notebooks.md",
}
REPO_PATH = {page: source for source, page in PAGES.items()}
LINK = re.compile(r"(\]\()([^)#\s]+)")


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns notebooks into pages
def on_files(files, config):
    for folder, pattern in PUBLISHED.items():
        for path in sorted((ROOT / folder).glob(pattern)):
            uri = f"{folder}/{path.name}"
            if files.get_file_from_path(uri) is None:  # a file with a real source folder:
                # mkdocs-jupyter rebuilds notebook files from their path and folder
                files.append(File(uri, str(ROOT), config["site_dir"], config["use_directory_urls"]))
    for source, uri in PAGES.items():
        files.append(File.generated(config, uri, abs_src_path=str(ROOT / source)))
    return files


def on_page_markdown(markdown, page, config, files):
    """A link relative to the page's place in the repository -> the site's copy of its
    target, relative to the page (``../figures/x.png`` -> ``figures/x.png``,
    ``../docs/results.md`` -> ``results.md``)."""
    src = page.file.src_uri
    here = posixpath.dirname(REPO_PATH.get(src, posixpath.join("docs", src)))

    def fix(m):
        target = posixpath.normpath(posixpath.join(here, m[2]))
        if target.startswith("docs/"):
            target = target[len("docs/") :]
        elif target in PAGES:
            target = PAGES[target]
        elif target.split("/")[0] not in PUBLISHED:
            return m[0]  # a page of docs/ linked from docs/: as it is
        return m[1] + posixpath.relpath(target, posixpath.dirname(src) or ".")

    return LINK.sub(fix, markdown)
