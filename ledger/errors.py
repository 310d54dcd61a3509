"""The one exception root of lotchain and its coded subclasses.

Every failure a user can cause or see carries a stable ``code``. The HTTP layer maps
``http_status`` to an RFC 9457 problem response; the CLI maps ``exit_code`` to its exit
status. Foreign exceptions are translated where they enter (``raise ... from e``).

Exit codes (DESIGN.md, "Command line"): 0 ok or pass, 1 fail, 2 bad usage or input, 3
review, 4 could not complete (storage, network, internal error: the verdict is unknown,
never "fail").
"""

from __future__ import annotations

from typing import Any, ClassVar

#: Exit status of a command that could not complete: nothing was judged.
EXIT_INCOMPLETE = 4


class LedgerError(Exception):
    """Root of every error lotchain raises on purpose."""

    code: ClassVar[str] = "LEDGER_ERROR"
    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 2
    title: ClassVar[str] = "Ledger error"

    def __init__(
        self,
        message: str,
        *,
        attestation: str | None = None,
        index: int | None = None,
        **detail: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.attestation = attestation
        self.index = index
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.attestation is not None:
            out["attestation"] = self.attestation
        if self.index is not None:
            out["index"] = self.index
        out.update(self.detail)
        return out


# -- bad input -------------------------------------------------------------------------


class MalformedError(LedgerError):
    """Input is not well-formed: bad JSON, bad base64, wrong shape, duplicate keys."""

    code = "MALFORMED"
    title = "Malformed input"


class TooLargeError(LedgerError):
    """Input exceeds a size or count limit."""

    code = "TOO_LARGE"
    http_status = 413
    title = "Input too large"


class RateLimitedError(LedgerError):
    """Too many requests from one client in the window; ``retry_after`` says when to retry."""

    code = "RATE_LIMITED"
    http_status = 429
    exit_code = EXIT_INCOMPLETE
    title = "Too many requests"


class SchemaError(LedgerError):
    """A payload or body does not validate against its JSON Schema."""

    code = "SCHEMA"
    http_status = 422
    title = "Schema validation failed"


class UsageError(LedgerError):
    """A command or request was used wrongly (missing option, bad argument)."""

    code = "USAGE"
    title = "Bad usage"


class ConfigError(LedgerError):
    """The local install (home directory, trust root, key files) is missing or broken."""

    code = "CONFIG"
    title = "Configuration error"


class KeyFileError(LedgerError):
    """A key file cannot be read: wrong passphrase, wrong format, unsafe permissions."""

    code = "KEY_FILE"
    title = "Key file error"


# -- admission rules (also verification finding codes) ---------------------------------


class SignatureError(LedgerError):
    """An envelope signature does not verify, or payload bytes do not match the id."""

    code = "SIGNATURE"
    http_status = 422
    title = "Signature invalid"


class KeyInvalidError(LedgerError):
    """The signing key is unknown, not the issuer's, or not valid at the time."""

    code = "KEY_INVALID"
    http_status = 422
    title = "Key not valid"


class RoleError(LedgerError):
    """The issuer does not hold the role the attestation type requires."""

    code = "ROLE"
    http_status = 403
    title = "Role not held"


class ReplayError(LedgerError):
    """The same payload is already in the log."""

    code = "REPLAY"
    http_status = 409
    title = "Replayed payload"


class RefMissingError(LedgerError):
    """An input refers to an output (or an attestation) that does not exist."""

    code = "REF_MISSING"
    http_status = 422
    title = "Reference missing"


class CustodyError(LedgerError):
    """An output is consumed by a party that does not hold it."""

    code = "CUSTODY"
    http_status = 422
    title = "Custody violated"


class OverconsumedError(LedgerError):
    """Consumers of an output together use more than its amount (double spend)."""

    code = "OVERCONSUMED"
    http_status = 409
    title = "Output overconsumed"


class UnitError(LedgerError):
    """Quantities are in incompatible units and carry no mass_kg."""

    code = "UNIT"
    http_status = 422
    title = "Incompatible units"


class TimeOrderError(LedgerError):
    """An event is before what it consumes, or in the future."""

    code = "TIME_ORDER"
    http_status = 422
    title = "Time order violated"


class YieldError(LedgerError):
    """A transformation produces more mass than its inputs allow."""

    code = "YIELD"
    http_status = 422
    title = "Yield exceeded"


class MaterialError(LedgerError):
    """An event changes material in a way it cannot: a transfer that turns lint into yarn,
    a process that cannot make its output, an origin of a processed good."""

    code = "MATERIAL"
    http_status = 422
    title = "Material changed where it cannot"


class BatchRefusedError(LedgerError):
    """An envelope of an all-or-nothing batch was not appended because another one in the
    same batch was refused (the refused one carries its own code)."""

    code = "BATCH_REFUSED"
    http_status = 409
    title = "Batch refused as a whole"


class EnforcementError(LedgerError):
    """A detention, submission or determination its legal basis or the shipment's
    enforcement so far does not allow (a seizure without a Finding, a submission after
    the determination, a submission kind the basis does not take)."""

    code = "ENFORCEMENT"
    http_status = 409
    title = "Enforcement step not allowed"


# -- the log ---------------------------------------------------------------------------


class ProofError(LedgerError):
    """A Merkle inclusion or consistency proof does not verify."""

    code = "PROOF"
    http_status = 422
    exit_code = 1
    title = "Proof invalid"


class InclusionError(ProofError):
    """An entry is not proven included under the checkpoint."""

    code = "LOG_INCLUSION"


class ConsistencyError(ProofError):
    """Two checkpoints are not proven consistent: the log was rewritten or forked."""

    code = "LOG_CONSISTENCY"


class LogChainError(LedgerError):
    """Leaf hashes, ``prev`` links or the tree root disagree with the log's record."""

    code = "LOG_CHAIN"
    http_status = 500
    exit_code = 1
    title = "Log chain broken"


class CheckpointError(LedgerError):
    """A checkpoint (signed note) is malformed or its signature does not verify."""

    code = "CHECKPOINT"
    http_status = 422
    exit_code = 1
    title = "Checkpoint invalid"


class NotFoundError(LedgerError):
    """The thing asked for is not in the ledger."""

    code = "NOT_FOUND"
    http_status = 404
    title = "Not found"


class StorageError(LedgerError):
    """The database failed in a way the caller cannot fix by changing its input."""

    code = "STORAGE"
    http_status = 503
    exit_code = EXIT_INCOMPLETE
    title = "Storage unavailable"


class UnauthorizedError(LedgerError):
    """No valid bearer token was given for a read that needs one."""

    code = "UNAUTHORIZED"
    http_status = 401
    title = "Authentication required"


class ForbiddenError(LedgerError):
    """The token's party may not read this."""

    code = "FORBIDDEN"
    http_status = 403
    title = "Forbidden"


class InternalError(LedgerError):
    """A failure lotchain did not foresee: reported with a code, never as a traceback."""

    code = "INTERNAL"
    http_status = 500
    exit_code = EXIT_INCOMPLETE
    title = "Internal error"


# -- exchange formats (EPCIS in, verifiable credentials out) ---------------------------


class EpcisError(LedgerError):
    """An EPCIS document is invalid, or an event in it cannot be mapped to an attestation."""

    code = "EPCIS"
    http_status = 422
    title = "EPCIS document cannot be imported"


class CredentialError(LedgerError):
    """A verifiable credential's proof, did:key or issuer does not hold."""

    code = "CREDENTIAL"
    http_status = 422
    exit_code = 1
    title = "Credential does not verify"
