"""Which seal a process applies, from the installation's settings: each committee's own key where it has one
(data_dir/seals/<committee>/), else the installation's (MEDIATION_SEAL_KEY_PATH, or data_dir/seal-key.pem), none
when sealing is off (MEDIATION_SEAL_DOCUMENTS=false). The documents' workers seal with what these settings name
(cli.document_sealer); a statistics report, made on request apart from any case, is sealed with the same keys
(api/services/statistics_exports.py).

`SealSetup` is those settings alone — paths and the passphrase, small and picklable — so that the process that
renders a report can be handed them; `sealer_of` loads the keys once per process and setup.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from core.settings import Settings

if TYPE_CHECKING:
    from documents.seal import Sealer


@dataclass(frozen=True)
class SealSetup:
    key_path: Path  # the installation's key and certificate
    cert_path: Path
    passphrase: str | None
    committee_certificates: tuple[Path, ...]  # each committee's own certificate, its key beside it

    @classmethod
    def of(cls, settings: Settings) -> SealSetup | None:
        """What the settings name; None when sealing is off."""
        if not settings.seal_documents:
            return None
        return cls(key_path=settings.effective_seal_key_path, cert_path=settings.effective_seal_cert_path,
                   passphrase=settings.seal_key_passphrase,
                   committee_certificates=tuple(settings.committee_seal_certificates()))


@lru_cache(maxsize=4)
def sealer_of(setup: SealSetup) -> Sealer:
    """Seals with the key of the committee a document names, else with the installation's (SealKeyError: a key
    that cannot be read, or none for the committee named)."""
    from documents.seal import SealKey, sealer_for_committees

    own = [SealKey.load(cert.with_name("seal-key.pem"), cert, setup.passphrase)
           for cert in setup.committee_certificates]
    default = (SealKey.load(setup.key_path, setup.cert_path, setup.passphrase)
               if not own or setup.cert_path.exists() else None)
    return sealer_for_committees(default, own)
