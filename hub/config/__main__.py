"""``python -m hub.config``: rewrite docs/configuration.md and config/schema.json."""

from __future__ import annotations

from hub.config.generate import generated_files
from hub.plugins import load_plugins

for path, content in generated_files(load_plugins()).items():
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    print(f"wrote {path}")
