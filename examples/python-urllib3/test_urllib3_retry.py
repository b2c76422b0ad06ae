"""urllib3's Retry, unmodified, against albsim: a correct policy passes, broken ones are caught
by the journal (docs/retry-kit.md)."""
import urllib3
from urllib3.util.retry import Retry

PLAN = ["503-qps-limited", "502-connection-refused", "ok"]


def pool(retry):
    return urllib3.PoolManager(retries=retry, timeout=urllib3.Timeout(total=10))


def test_correct_policy_retries_throttling_and_refused_connects_with_backoff(albsim):
    albsim.admin.arm_plan("get", PLAN, key="header:Idempotency-Key")
    retry = Retry(total=3, backoff_factor=0.1, status_forcelist=[502, 503, 504])
    resp = pool(retry).request("GET", albsim.url + "/orders", headers={"Idempotency-Key": "g1"})
    assert resp.status == 200
    albsim.admin.assert_attempts("g1", 3)
    # urllib3 sleeps backoff_factor * 2 ** (n - 1) before retry n (0 before the first in 1.26).
    albsim.admin.assert_backoff("g1", 0.0)
    assert albsim.admin.retry("g1")["intervals"][1] >= 0.2


def test_correct_policy_does_not_resend_a_post_that_reached_the_backend(albsim):
    albsim.admin.arm_plan("pay", ["500-backend-reset", "ok"], key="header:Idempotency-Key")
    retry = Retry(total=3, status_forcelist=[500, 502, 503, 504])  # POST is not in allowed_methods
    resp = pool(retry).request("POST", albsim.url + "/pay", body=b"{}",
                               headers={"Idempotency-Key": "p1"})
    assert resp.status == 500
    albsim.admin.assert_no_unsafe_resend("p1")
    albsim.admin.assert_attempts("p1", 1)


def test_broken_policy_resending_posts_is_caught(albsim):
    albsim.admin.arm_plan("pay", ["500-backend-reset", "ok"], key="header:Idempotency-Key")
    broken = Retry(total=3, status_forcelist=[500], allowed_methods=None)  # every method
    resp = pool(broken).request("POST", albsim.url + "/pay", body=b"{}",
                                headers={"Idempotency-Key": "p2"})
    assert resp.status == 200  # it "worked" ...
    report = albsim.admin.retry("p2")
    assert report["non_idempotent_resent"]  # ... but the payment may have run twice


def test_retry_after_honoured_and_ignored(albsim):
    albsim.admin.arm_plan("busy", ["503-backend-returned; retry-after=1", "ok"],
                          key="header:Idempotency-Key")
    good = Retry(total=2, status_forcelist=[503])  # honours Retry-After by default
    assert pool(good).request("GET", albsim.url + "/", headers={"Idempotency-Key": "r1"}).status == 200
    assert albsim.admin.retry("r1")["retry_after_honoured"] is True
    broken = Retry(total=2, status_forcelist=[503], respect_retry_after_header=False)
    assert pool(broken).request("GET", albsim.url + "/", headers={"Idempotency-Key": "r2"}).status == 200
    assert albsim.admin.retry("r2")["retry_after_honoured"] is False
