"""hashicorp/go-retryablehttp against albsim: the default policy re-sends a POST after a reset
that reached the backend (caught by the journal); a policy that leaves such POSTs alone passes;
GETs are retried through throttling and a refused connect with backoff."""
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def retryclient(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("go") / "retryclient")
    # Debian's Go packages live in /usr/share/gocode: GOPATH mode, nothing fetched.
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode",
               GOCACHE=str(tmp_path_factory.mktemp("gocache")), GOFLAGS="")
    subprocess.run(["go", "build", "-o", out, os.path.join(HERE, "main.go")], env=env, check=True,
                   timeout=170)
    return out


def run(client, policy, method, url, key):
    out = subprocess.run([client, policy, method, url, key], capture_output=True, text=True,
                         timeout=60, check=True)
    return int(out.stdout.strip())


def test_gets_are_retried_with_backoff(albsim, retryclient):
    albsim.admin.arm_plan("get", ["503-qps-limited", "502-connection-refused", "ok"],
                          key="header:Idempotency-Key")
    assert run(retryclient, "correct", "GET", albsim.url + "/orders", "g1") == 200
    albsim.admin.assert_attempts("g1", 3)
    albsim.admin.assert_backoff("g1", 0.1)  # RetryWaitMin


def test_default_policy_resends_a_post_and_is_caught(albsim, retryclient):
    albsim.admin.arm_plan("pay", ["500-backend-reset", "ok"], key="header:Idempotency-Key")
    assert run(retryclient, "broken", "POST", albsim.url + "/pay", "p1") == 200
    assert albsim.admin.retry("p1")["non_idempotent_resent"] is True


def test_safe_policy_leaves_the_post_alone(albsim, retryclient):
    albsim.admin.arm_plan("pay", ["500-backend-reset", "ok"], key="header:Idempotency-Key")
    assert run(retryclient, "correct", "POST", albsim.url + "/pay", "p2") == 500
    albsim.admin.assert_attempts("p2", 1)
    albsim.admin.assert_no_unsafe_resend("p2")
