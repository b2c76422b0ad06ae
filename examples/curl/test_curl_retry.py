"""curl --retry, unmodified, against albsim: the journal shows what it did (docs/retry-kit.md)."""
import subprocess
import tempfile


def curl(*args):
    # The body goes to a real file: a retrying curl truncates it before each attempt.
    with tempfile.NamedTemporaryFile() as body:
        out = subprocess.run(["curl", "-s", "-o", body.name, "-w", "%{http_code}", "--max-time",
                              "20", *args], capture_output=True, text=True, timeout=30)
    return int(out.stdout or 0)


def test_retry_gets_through_throttling_and_a_refused_connect(albsim):
    albsim.admin.arm_plan("get", ["503-qps-limited", "502-connection-refused", "ok"],
                          key="header:Idempotency-Key")
    code = curl("--retry", "3", "--retry-delay", "1", "-H", "Idempotency-Key: c1",
                albsim.url + "/orders")
    assert code == 200
    albsim.admin.assert_attempts("c1", 3)
    albsim.admin.assert_backoff("c1", 0.9)  # --retry-delay 1


def test_retry_on_a_post_resends_it_after_a_reset_and_is_caught(albsim):
    # curl retries a 500 whatever the method: a POST that reached the backend is sent again.
    albsim.admin.arm_plan("pay", ["500-backend-reset", "ok"], key="header:Idempotency-Key")
    code = curl("--retry", "2", "--retry-delay", "0", "-X", "POST", "-d", "{}",
                "-H", "Idempotency-Key: c2", albsim.url + "/pay")
    assert code == 200
    assert albsim.admin.retry("c2")["non_idempotent_resent"] is True
