"""Serve the demo's WeChat Pay stand-in (demo/wechat_pay.py); ``python3 dev.py run`` starts it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from demo.wechat_pay import Keys, WechatPayStandin, server


class Command(BaseCommand):
    help = (
        "Serve a local stand-in of WeChat Pay for the demo (moves no money). With --settings-only, "
        "make its keys and print the environment that points MedBook at it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--folder", type=Path, default=settings.VAR_DIR / "wechat-pay-standin")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8199)
        parser.add_argument(
            "--public-url", default="", help="where browsers reach it (default: http://host:port)"
        )
        parser.add_argument("--settings-only", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        keys = Keys(options["folder"]).ensure()
        if options["settings_only"]:
            for name, value in keys.settings().items():
                self.stdout.write(f"{name}={value}")
            return
        host, port = options["host"], options["port"]
        standin = WechatPayStandin(
            keys,
            public_url=options["public_url"] or f"http://{host}:{port}",
            log=lambda line: self.stdout.write(line),
        )
        httpd = server(standin, host, port)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            httpd.server_close()
