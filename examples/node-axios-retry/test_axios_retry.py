"""axios-retry (npm) against albsim: its default condition retries GETs through throttling and a
refused connect and leaves a POST alone after a reset that reached the backend; a condition
that retries every 5xx re-sends the POST, which the journal catches."""
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def run(policy, method, url, key):
    out = subprocess.run(["node", os.path.join(HERE, "retryclient.js"), policy, method, url, key],
                         capture_output=True, text=True, timeout=60, check=True)
    return int(out.stdout.strip())


def test_gets_are_retried_with_backoff(albsim):
    albsim.admin.arm_plan("get", ["503-qps-limited", "502-connection-refused", "ok"],
                          key="header:Idempotency-Key")
    assert run("correct", "GET", albsim.url + "/orders", "g1") == 200
    albsim.admin.assert_attempts("g1", 3)
    albsim.admin.assert_backoff("g1", 0.1)


def test_default_condition_leaves_the_post_alone(albsim):
    albsim.admin.arm_plan("pay", ["500-backend-reset", "ok"], key="header:Idempotency-Key")
    assert run("correct", "POST", albsim.url + "/pay", "p1") == 500
    albsim.admin.assert_attempts("p1", 1)


def test_retrying_every_5xx_resends_the_post_and_is_caught(albsim):
    albsim.admin.arm_plan("pay", ["500-backend-reset", "ok"], key="header:Idempotency-Key")
    assert run("broken", "POST", albsim.url + "/pay", "p2") == 200
    assert albsim.admin.retry("p2")["non_idempotent_resent"] is True
