"""The Python client against a real `albsim serve`: arm a plan, walk it, read the journal;
change the instance QPS limit and a listener's client link at runtime."""
import re
import time
import urllib.error
import urllib.request

import pytest

from albsim_admin import AdminError


def status(url, key, method="GET"):
    req = urllib.request.Request(url, method=method, headers={"Idempotency-Key": key})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def test_a_plan_walked_and_read_back(albsim):
    albsim.admin.arm_plan("pay", ["503-qps-limited", "502-connection-refused", "ok"],
                          match={"path_prefix": "/pay"}, key="header:Idempotency-Key")
    seen = [status(albsim.url + "/pay", "op-1") for _ in range(3)]
    assert seen == [503, 502, 200]
    albsim.admin.assert_attempts("op-1", 3)
    entries = albsim.admin.journal(key="op-1")
    assert [e["sim_cause"] for e in entries] == ["503-qps-limited", "502-connection-refused", "ok"]
    assert [p["name"] for p in albsim.admin.plans()] == ["pay"]
    albsim.admin.disarm("pay")
    assert albsim.admin.plans() == []


def test_a_bad_plan_names_the_field(albsim):
    with pytest.raises(AdminError) as e:
        albsim.admin.arm_plan("bad", ["ok", "408-request-incomplete"])
    assert e.value.status == 400
    assert e.value.body["field"] == "steps[1]"


def test_metrics_count_the_injected_cause(albsim):
    albsim.admin.arm_plan("once", ["503-no-backend"], max_uses=1)
    assert status(albsim.url + "/", "k") == 503
    albsim.admin.journal()  # waits until the answered request is counted
    assert re.search(r'^albsim_requests_total\{[^}]*cause="503-no-backend"[^}]*\} 1$',
                     albsim.admin.metrics(), re.MULTILINE)


def test_instance_qps_limit_at_runtime(albsim):
    assert albsim.admin.set_instance_qps(1, burst=1)["qps"] == 1
    assert [status(albsim.url + "/", f"q{i}") for i in range(2)] == [200, 503]
    assert albsim.admin.journal(key="q1")[0]["sim_cause"] == "503-qps-limited"
    assert albsim.admin.config()["instance"]["qps"] == {"qps": 1, "burst": 1}
    albsim.admin.set_instance_qps(0)
    assert status(albsim.url + "/", "q2") == 200


def test_client_link_at_runtime(albsim):
    listener = albsim.admin.config()["listeners"][0]["name"]
    with pytest.raises(AdminError) as e:
        albsim.admin.set_client_link(listener, extra_rtt="200ms", loss=2)
    assert (e.value.status, e.value.body["field"]) == (400, "loss")
    assert albsim.admin.config()["listeners"][0]["client_link"]["extra_rtt"] == 0

    def timed():
        start = time.monotonic()
        assert status(albsim.url + "/", "t") == 200
        return time.monotonic() - start

    baseline = min(timed() for _ in range(3))
    link = albsim.admin.set_client_link(listener, extra_rtt="200ms")["client_link"]
    assert link["extra_rtt"] == 0.2
    slow = timed()
    assert slow >= 0.2 and slow - baseline >= 0.19, (baseline, slow)
    albsim.admin.set_client_link(listener)
    assert albsim.admin.config()["listeners"][0]["client_link"]["extra_rtt"] == 0
