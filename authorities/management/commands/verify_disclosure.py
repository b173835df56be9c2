"""Check a disclosure package: its HMAC signature (DISCLOSURE_SIGNING_KEY), then every
member against the SHA-256 of its manifest. Exit 0 when the file is exactly as the
portal signed it, 1 otherwise (with what is wrong)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from authorities.package import package_verify


class Command(BaseCommand):
    help = "Check that a disclosure package is exactly as the portal built and signed it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="the package's ZIP file")

    def handle(self, *args, file: Path, **options) -> None:
        problems = package_verify(file)
        if problems:
            raise CommandError(f"{file}: REFUSED\n" + "\n".join(f"- {p}" for p in problems))
        self.stdout.write(f"{file}: OK, signature and manifest match")
