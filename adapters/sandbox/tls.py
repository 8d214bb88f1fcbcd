"""A throwaway certificate authority for the sandbox's HTTPS listener.

simple-salesforce always builds ``https://`` URLs, so the sandbox must speak TLS. trustme makes a test CA and a
server certificate for 127.0.0.1/localhost; clients trust the CA by pointing ``verify`` at ``ca_path``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class TlsFiles:
    """PEM files on disk: the CA clients trust, and the server's certificate chain and key."""

    ca_path: Path
    cert_path: Path
    key_path: Path


def make_tls_files(directory: str | Path | None = None, *, hosts: tuple[str, ...] = ()) -> TlsFiles:
    """Create a fresh CA and a server certificate for 127.0.0.1, localhost (and ``hosts``) in ``directory``.

    Without a directory the files go to a new temporary one that lives as long as the process (the OS cleans it).
    """
    where = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="leadrelay-sandbox-tls-"))
    where.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="leadrelay sandbox")
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1", *hosts)
    files = TlsFiles(where / "sandbox-ca.pem", where / "sandbox-cert.pem", where / "sandbox-key.pem")
    ca.cert_pem.write_to_path(str(files.ca_path))
    cert.private_key_pem.write_to_path(str(files.key_path))
    with files.cert_path.open("wb") as out:
        for blob in cert.cert_chain_pems:
            out.write(blob.bytes())
    files.key_path.chmod(0o600)
    return files
