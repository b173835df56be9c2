"""A worker killed in the middle of an account erasure (marker `faults`): the real
prefork worker's pool process is killed with SIGKILL after the first registry
category is erased, inside the erasure's transaction."""

from __future__ import annotations

import time

import pytest

from accounts.models import User
from cloudportal.core.models import OutboundEmail
from cloudportal.testing.faults import kill, wait_until
from erasure import tasks
from erasure.models import ErasureRequest
from erasure.services import account_delete_request
from erasure.tests.scan import scan
from erasure.tests.test_erasure import customer_with_everything, needles_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

PAUSE = "erasure.category_erased"
RECEIPT = "Your account has been erased"


def test_an_erasure_whose_worker_is_killed_midway_ends_complete_with_one_receipt(faults, settings):
    settings.ERASURE_GRACE_HOURS = 0  # erased at once: queued when the customer asks
    user = customer_with_everything()
    address, needles = user.email, needles_for(user)
    faults.pauses.hold(PAUSE)
    request = account_delete_request(user=user)
    kill(faults.pauses.wait_reached(PAUSE))
    faults.pauses.release(PAUSE)
    time.sleep(2)
    # The transaction died with the process: nothing is half-erased, nothing retried it.
    assert ErasureRequest.objects.filter(pk=request.pk, status=ErasureRequest.Status.PENDING).exists()
    assert User.objects.filter(pk=user.pk).exists()
    assert not faults.smtp.with_subject(RECEIPT)

    tasks.erasures_due_queue.delay()  # beat, every five minutes
    wait_until(lambda: not User.objects.filter(pk=user.pk).exists(), what="the account erased")
    assert len(faults.smtp.wait_for_subject(RECEIPT, to=address)) == 1
    # Every message to the address has gone (and forgotten it): the scan finds nothing.
    wait_until(lambda: not OutboundEmail.objects.filter(to__iexact=address).exists(), what="the outbox sent")
    assert scan(needles) == []
