"""Sphinx configuration of the annotated-source site; `vmastery site` builds with it.

The source folder is a staging tree made by `vmastery.site.cli` (links to course/, labs/,
annotations/ and the top-level pages, plus the generated landing and phase pages), so this file
only sets what a reader sees. `vmastery_root` (the repository) comes from the command line.
"""
project = "vLLM Mastery"
author = "vLLM Mastery contributors"
copyright = "vLLM Mastery contributors; vLLM source under its own Apache-2.0 licence"

# sphinx-codeautolink was tried and left out: it links names only through an autodoc/intersphinx
# inventory (there is none for vLLM here, and none offline), and its HTML pass cost 45 s of a 100 s
# build. Upstream names in our prose are linked by the {anchor} role instead.
extensions = ["myst_parser", "vmastery.site.ext"]

root_doc = "index"
source_suffix = {".md": "markdown"}
include_patterns = ["index.md", "phases/*.md", "README.md", "UPSTREAM_PIN.md", "PUBLISHING.md",
                    "course/**.md", "labs/README.md", "labs/**/README.md", "annotations/**.md"]
exclude_patterns = ["**/node_modules/**", "**/.pytest_cache/**"]
# myst.directive_comments: {upstream} quotes may hold a `#`; ext.py reads them as `vmastery check` does
suppress_warnings = ["toc.not_included", "myst.header", "myst.xref_missing", "ref.any", "myst.directive_comments"]

myst_url_schemes = ["http", "https", "mailto"]  # anything else never becomes a link
myst_heading_anchors = 3
myst_enable_extensions = ["deflist", "tasklist"]

html_theme = "furo"
html_title = "vLLM Mastery"
html_static_path = ["_static"]
templates_path = ["_templates"]
html_copy_source = False
html_show_sourcelink = False
html_sidebars = {"**": ["sidebar/brand.html", "sidebar/search.html", "sidebar/vm-jump.html", "sidebar/vm-wiki.html",
                        "sidebar/scroll-start.html", "sidebar/navigation.html", "sidebar/scroll-end.html"]}
html_theme_options = {"navigation_with_keys": True}
pygments_style = "friendly"
pygments_dark_style = "monokai"

vmastery_root = ""  # set by `vmastery site`
vmastery_only = []  # restrict source pages to these path prefixes (tests, quick previews)
# The repository contributions go to: with it, every note has "Edit this note" and every other symbol
# "Annotate this symbol", opening the host's web editor (`vmastery site --repo-url/--branch` override).
vmastery_repo_url = ""  # e.g. "https://github.com/OWNER/REPO"; empty: no edit links
vmastery_branch = "main"
vmastery_wiki = False  # set by `vmastery serve --edit`: edit links open the local editor instead
