"""Domain errors. Each has a stable machine-readable code (its class name) and a kind that the
API maps to an HTTP status in one place."""

from __future__ import annotations


class LedgerError(Exception):
    kind = "conflict"  # conflict | not_found | forbidden | invalid

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.__doc__ or type(self).__name__)
        self.detail = detail or (self.__doc__ or "").strip()

    @property
    def code(self) -> str:
        return type(self).__name__


# --- not found ------------------------------------------------------------------------------
class NotFound(LedgerError):
    """The object does not exist, or is not visible to you."""

    kind = "not_found"


class NotYetRecorded(NotFound):
    """The object did not exist yet at that position or time."""


class FundNotFound(NotFound):
    """No such fund."""


class ContractorNotFound(NotFound):
    """No such contractor."""


class BeneficiaryNotFound(NotFound):
    """No such beneficiary."""


class ContractNotFound(NotFound):
    """No such contract."""


class CaseNotFound(NotFound):
    """No such case."""


class VisitNotFound(NotFound):
    """No such service visit."""


class EvaluationNotFound(NotFound):
    """No such evaluation."""


class WorkerNotFound(NotFound):
    """No such worker at this contractor."""


class MilestoneNotFound(NotFound):
    """No such milestone in this contract."""


class TrancheNotFound(NotFound):
    """No such payment tranche in this contract."""


class TokenNotFound(NotFound):
    """No such API token."""


# --- forbidden ------------------------------------------------------------------------------
class Forbidden(LedgerError):
    """Your role may not do this."""

    kind = "forbidden"


class ConfirmationNotAllowed(Forbidden):
    """A visit is confirmed or disputed by the purchaser's follow-up (回访) or on the beneficiary's
    own proof; a contractor never vouches for its own visit on its own word, nor disputes it."""


# --- invalid input that only the domain can judge -------------------------------------------
class InvalidInput(LedgerError):
    """The request is well-formed but its values break a rule of shape."""

    kind = "invalid"


class AsOfPointInvalid(InvalidInput):
    """Give exactly one of a log position or a time."""


class UnknownServiceItem(InvalidInput):
    """The service item is not in the catalogue."""


class InvalidAmount(InvalidInput):
    """Money must be positive with at most 2 decimal places."""


class InvalidNationalId(InvalidInput):
    """The national ID number is not 18 characters of digits (the last may be X)."""


class NationalIdCheckFailed(InvalidNationalId):
    """The national ID number's last character is not its check digit (GB 11643): a mistyped digit?"""


class InvalidCreditCode(InvalidInput):
    """A unified social credit code is 8 digits and 10 upper-case letters or digits (no I, O, S, V, Z)."""


class CreditCodeCheckFailed(InvalidCreditCode):
    """The unified social credit code's last character is not its check character (GB 32100): a mistyped character?"""


class InvalidPeriod(InvalidInput):
    """The end must come after the start."""


class InvalidScores(InvalidInput):
    """The scores must cover exactly the template's indicators, each between 0 and 100."""


class BeneficiaryProofMissing(InvalidInput):
    """A confirmation on the beneficiary's own proof needs a reference to that proof, distinct
    from the visit's own evidence."""


class InvalidContractTerms(InvalidInput):
    """The contract's lines, milestones or tranches are inconsistent."""


# --- business conflicts (409) ---------------------------------------------------------------
class FundSourceNotAllowed(LedgerError):
    """Basic-living and special assistance money may never pay for purchased services."""


class FundCapExceeded(LedgerError):
    """Appropriations for service purchases would exceed the share of last year's subsidy total."""


class FundInsufficient(LedgerError):
    """The fund does not hold enough uncommitted money."""


class CommitmentExceeded(LedgerError):
    """The payment would exceed what the fund committed to this contract."""


class ContractorIneligible(LedgerError):
    """The contractor is suspended or debarred, or lacks the required attestations."""


class ContractorDebarred(ContractorIneligible):
    """The contractor is debarred from government purchase of social-assistance services."""


class ContractorSuspended(ContractorIneligible):
    """The contractor is suspended."""


class NaturalPersonNotAllowed(ContractorIneligible):
    """A natural person may contract only where no organisation qualifies."""


class ContractorAlreadyRegistered(LedgerError):
    """A contractor with this unified social credit code is already registered."""


class WorkerAlreadyEnrolled(LedgerError):
    """This worker is already enrolled."""


class TermTooLong(LedgerError):
    """A contract term may not exceed the maximum (3 years by default)."""


class BudgetExceeded(LedgerError):
    """The tranches would pay more than the contract's budget."""


class ContractNotActive(LedgerError):
    """The contract is not active (suspended, terminated, accepted or settled)."""


class ContractStateConflict(LedgerError):
    """The contract is not in a state that allows this."""


class MilestoneNotFulfilled(LedgerError):
    """The tranche's milestone is not fulfilled yet."""


class MilestoneAlreadyFulfilled(LedgerError):
    """The milestone is already fulfilled."""


class TrancheAlreadyReleased(LedgerError):
    """The tranche has already been released."""


class TrancheClosed(LedgerError):
    """The tranche was withheld and can no longer be released."""


class AppealPending(LedgerError):
    """An appeal against the evaluation is still pending."""


class FinalEvaluationMissing(LedgerError):
    """Acceptance needs a concluded final evaluation with a passing grade."""


class NotAccepted(LedgerError):
    """Settlement needs the contract to be accepted first."""


class BeneficiaryDeregistered(LedgerError):
    """The beneficiary has been deregistered."""


class BeneficiaryAlreadyRegistered(LedgerError):
    """A beneficiary with this national ID number is already registered."""


class CategoryChangeInvalid(LedgerError):
    """Raising must move to a deeper-need category, lowering to a lighter one."""


class ServiceNotContracted(LedgerError):
    """The service item is not among the contract's service lines."""


class ServiceNotReferred(LedgerError):
    """The service item is not among the services the case was referred for."""


class CaseStateConflict(LedgerError):
    """The case is not in a state that allows this."""


class CarerRatioExceeded(LedgerError):
    """Accepting the case would break the minimum carer ratio for the contractor's enrolled workers."""


class Subcontracting(LedgerError):
    """The worker is not enrolled at the contracted organisation: subcontracting is not allowed."""


class OutsideContractTerm(LedgerError):
    """The visit falls outside the contract's term."""


class VisitStateConflict(LedgerError):
    """The visit is not in a state that allows this."""


class PanelRuleBroken(LedgerError):
    """A panel needs an odd number of at least 3 members, at least one an accountant with an
    intermediate or higher title; otherwise name a third-party evaluator."""


class EvaluationStateConflict(LedgerError):
    """The evaluation is not in a state that allows this."""


class AppealAlreadyResolved(LedgerError):
    """The appeal has been resolved; its result is final."""


class IdempotencyKeyReused(LedgerError):
    """This Idempotency-Key was already used with a different request."""


class ConcurrentModification(LedgerError):
    """Someone else changed the same record at the same moment; try again."""
