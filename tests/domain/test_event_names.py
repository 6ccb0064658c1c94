"""Stored event names are part of the data: renaming one breaks every store that holds it.

This list is frozen on purpose. Adding an event adds a line here; renaming or removing one
needs an upcaster and a decision record, not an edit of this test.
"""

from __future__ import annotations

import importlib
import pkgutil

from eventsourcing.utils import resolve_topic

import domain
import domain.cooperative
from domain.events import EVENT_CLASSES, TOPIC_PREFIX, CoopEvent, FinancialEvent

# Every domain module registers its events when imported: import them all, so the test does
# not depend on which modules other tests happened to load.
for _module in pkgutil.iter_modules(domain.__path__):
    importlib.import_module(f"domain.{_module.name}")

FROZEN_EVENT_NAMES = {
    "CooperativeFounded",
    "AccountAdded",
    "MemberAdmitted",
    "MemberTransferred",
    "MemberResigned",
    "MemberExcluded",
    "SharesSubscribed",
    "SharesRedeemed",
    "FeeCalled",
    "FeePaid",
    "EntryReversed",
    "EntryRecorded",
    "StatutesAmended",
    "VotingPolicySet",
    "ResolutionRecorded",
    "VoteCast",
    # subscriptions, certifications, platform levy
    "SubscriptionPlanDefined",
    "SubscriptionStarted",
    "SubscriptionCancelled",
    "SubscriptionBilled",
    "SubscriptionPaid",
    "CertificationTermsSet",
    "CertificationGranted",
    "CertificationRenewed",
    "CertificationRevoked",
    "CertificationFeePaid",
    "CourseDeclared",
    "CourseContributionCollected",
    "AuthorPaid",
    # success contributions, cooperation fund, calls for projects and grants, subsidies
    "ContributionPledged",
    "ContributionResultDeclared",
    "ContributionResultCancelled",
    "ContributionPaid",
    "CallOpened",
    "GrantApplicationRecorded",
    "GrantAwarded",
    "GrantPaid",
    "GrantWithdrawn",
    "CallClosed",
    "SubsidyGranted",
    "SubsidyReceived",
    "SubsidyUsed",
    # sensor reward credits, shared-employee hours
    "SensorRewardTermsSet",
    "SensorRegistered",
    "SensorRetired",
    "ReadingsAccepted",
    "CreditsRedeemedForMoney",
    "CreditsRedeemedForService",
    "EthicalMinimumRateSet",
    "SharedEmployeeEngaged",
    "SharedHoursLogged",
    "SharedHoursRebilled",
    "FiscalYearClosed",  # fiscal-year closing
    # donations and crowdfunding, advertising
    "DonationReceived",
    "CrowdfundingPayoutReceived",
    "EarmarkedDonationUsed",
    "AdvertisingContractSigned",
    "AdvertisingContractEnded",
    "AdvertisingInvoiced",
    "AdvertisingInvoicePaid",
    "ObservatoryVisibilitySet",  # a public or private observatory
    # tax receipts (reçus fiscaux)
    "ReceiptEligibilityDeclared",
    "TaxReceiptIssued",
    "TaxReceiptCancelled",
    # federation, colleges' own rules
    "CollegeRulesSet",
    "FederationOpeningCarried",
    "FederationRecorded",
    "BooksSealedByFederation",
    # open items carried by a federation (domain/federation_carry.py)
    "FeeCallCarried",
    "EarmarkedGiftCarried",
    "AdvertisingContractCarried",
    "SharesCarried",
    "CertificationCarried",
    "SubscriptionPlanCarried",
    "SubscriptionCarried",
    "SensorRewardTermsCarried",
    "SensorCarried",
    "SensorCreditsCarried",
    "EthicalMinimumRateCarried",
    "SharedEmployeeCarried",
    "CooperationFundCarried",
    "SubsidyCarried",
    "CallCarried",
    "GrantApplicationCarried",
    "AuthorBalanceCarried",
    "ContributionPledgeCarried",
    # personal data (domain/identities.py)
    "PersonForgotten",
    # SEPA direct debit of fees (domain/sepa.py)
    "CreditorIdentifierSet",
    "MandateRecorded",
    "MandateRevoked",
    "DirectDebitBatchIssued",
    "DirectDebitBatchCollected",
    "DirectDebitReturned",
    # bank statements (domain/bank.py)
    "BankAccountOpened",
    "CsvMappingSet",
    "BankStatementImported",
    "BankLineMatched",
}

FINANCIAL = {
    "DirectDebitReturned",
    "SharesSubscribed",
    "SharesRedeemed",
    "FeeCalled",
    "FeePaid",
    "EntryReversed",
    "EntryRecorded",
    "SubscriptionBilled",
    "SubscriptionPaid",
    "CertificationGranted",
    "CertificationRenewed",
    "CertificationFeePaid",
    "CourseContributionCollected",
    "AuthorPaid",
    "ContributionPaid",
    "GrantAwarded",
    "GrantPaid",
    "GrantWithdrawn",
    "SubsidyGranted",
    "SubsidyReceived",
    "SubsidyUsed",
    "ReadingsAccepted",
    "CreditsRedeemedForMoney",
    "CreditsRedeemedForService",
    "SharedHoursLogged",
    "SharedHoursRebilled",
    "FiscalYearClosed",
    "DonationReceived",
    "CrowdfundingPayoutReceived",
    "EarmarkedDonationUsed",
    "AdvertisingInvoiced",
    "AdvertisingInvoicePaid",
    "FederationOpeningCarried",
}


def test_the_list_of_stored_event_names_is_frozen():
    assert TOPIC_PREFIX == "coopledger:"
    assert set(EVENT_CLASSES) == FROZEN_EVENT_NAMES


def test_a_fresh_process_that_opens_the_store_knows_every_event():
    """A server or runner process decodes events it never imported itself (a federation's carried
    items): opening the application must register every stored event class."""
    import subprocess
    import sys

    names = subprocess.run(
        [
            sys.executable,
            "-c",
            "import ledger.app; from domain.events import EVENT_CLASSES; print(' '.join(sorted(EVENT_CLASSES)))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert set(names) == FROZEN_EVENT_NAMES


def test_every_topic_is_the_prefixed_class_name_and_resolves_back():
    for name, cls in EVENT_CLASSES.items():
        assert cls.__name__ == name
        assert cls.TOPIC == f"coopledger:{name}"
        assert resolve_topic(cls.TOPIC) is cls
    # Topics do not depend on the module that defines the class.
    assert all("domain" not in cls.TOPIC for cls in EVENT_CLASSES.values())


def test_aggregate_and_receipt_topics_are_stable_too():
    from ledger.app import CommandReceipt

    assert domain.cooperative.Cooperative.TOPIC == "coopledger:Cooperative"
    assert resolve_topic("coopledger:Cooperative") is domain.cooperative.Cooperative
    assert CommandReceipt.TOPIC == "coopledger:CommandReceipt"
    assert CommandReceipt.Created.TOPIC == "coopledger:CommandReceipt.Created"


def test_financial_events_are_exactly_those_that_carry_an_entry():
    assert {n for n, c in EVENT_CLASSES.items() if issubclass(c, FinancialEvent)} == FINANCIAL
    assert all(issubclass(c, CoopEvent) for c in EVENT_CLASSES.values())
    assert "FinancialEvent" not in EVENT_CLASSES and "CoopEvent" not in EVENT_CLASSES  # abstract bases
