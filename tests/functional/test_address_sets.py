"""Address-set sync with a 26.09 peer, both ways round, row for row against the all-C run.

The scenario of ovn-ic's own test ("address-set sync", tests/ovn-ic.at), cut to two
AZs: sets published and learned, addresses changed, an IPv6 set, a name a local set
has, the ic-adv flag cleared and a set deleted, learning and advertising switched
off.  It runs once with ovn-ic 26.09 in both AZs, recording the rows after each
step, then with ours in az1, in az2 and in both; after each step the rows (the IC
SB's and every NB's address sets among them) must become those of the all-C run.
Then, ours only: a peer's set named like one northd makes here (a port group's
``<group>_ip4``), which ovn-ic learns and northd then fails every SB transaction
on, is refused; and ours leaves (enable-ic=false) beside a C peer: what it made
goes, and the peer forgets what it had learned from it.
"""

from __future__ import annotations

import signal

import pytest
from icview import DEPLOYMENTS, OURS, REFERENCE, TIMEOUT, assert_idle, rows, start
from releaseview import Step, all_c_run, has, registered, run_compared, start_all
from testbed import wait_until

RELEASE = "26.09"


def published(tb):
    """{(AZ name, set name): addresses} of the IC SB."""
    zones = {row["_uuid"]: row["name"]
             for row in rows(tb.ic_sbctl, "Availability_Zone", "name")}
    return {(zones.get(row["availability_zone"]), row["name"]): sorted(_as_list(row["addresses"]))
            for row in rows(tb.ic_sbctl, "Address_Set", "name availability_zone addresses")}


def learned(az):
    """{set name: addresses} of the sets ``az`` learned."""
    return {row["name"]: sorted(_as_list(row["addresses"]))
            for row in rows(az.nbctl, "Address_Set", "name addresses external_ids")
            if row["external_ids"].get("ic-learnt") == "true"}


def _as_list(cell):
    return cell if isinstance(cell, list) else [cell]


def create(az, name, *addresses, adv=True):
    values = ",".join(f'"{address}"' for address in addresses)
    az.nbctl("create", "Address_Set", f"name={name}", f"addresses=[{values}]",
             *(["options:ic-adv=true"] if adv else []))


def publish_and_learn(tb, sides):
    for i, az in enumerate(tb.azs, 1):
        az.nbctl("set", "NB_Global", ".", "options:ic-as-learn=true", "options:ic-as-adv=true")
        create(az, f"az{i}-as1", f"{i}.1.1.1", f"{i}.1.1.2")
    create(tb.azs[0], "az1-as2", "1.1.3.1", adv=False)


def update(tb, sides):
    az1, az2 = tb.azs
    az1.nbctl("set", "Address_Set", "az1-as1", 'addresses=["1.1.1.1","1.1.1.3","1.1.1.4"]')
    create(az2, "az2-as2", "2001:db8::1", "2001:db8::2")


def same_name(tb, sides):
    az1, az2 = tb.azs
    create(az1, "dup-as", "5.5.5.1", adv=False)
    create(az2, "dup-as", "5.5.5.2")


def withdraw(tb, sides):
    az1, az2 = tb.azs
    az1.nbctl("set", "Address_Set", "az1-as1", "options:ic-adv=false")
    az2.nbctl("destroy", "Address_Set", "az2-as2")


def learning_off(tb, sides):
    tb.azs[0].nbctl("set", "NB_Global", ".", "options:ic-as-learn=false")


def advertising_off(tb, sides):
    tb.azs[1].nbctl("set", "NB_Global", ".", "options:ic-as-adv=false")


STEPS = [
    Step("AZ registration", start_all, registered),
    Step("sets published and learned", publish_and_learn, lambda tb: (
        learned(tb.azs[0]) == {"az2-as1": ["2.1.1.1", "2.1.1.2"]}
        and learned(tb.azs[1]) == {"az1-as1": ["1.1.1.1", "1.1.1.2"]}),
        has("ic_sb", "Address_Set")),
    Step("addresses changed, an IPv6 set", update, lambda tb: (
        learned(tb.azs[1])["az1-as1"] == ["1.1.1.1", "1.1.1.3", "1.1.1.4"]
        and "az2-as2" in learned(tb.azs[0]))),
    Step("a name a local set has", same_name,
         lambda tb: ("az2", "dup-as") in published(tb)),
    Step("flag cleared, set deleted", withdraw, lambda tb: (
        "az1-as1" not in learned(tb.azs[1]) and "az2-as2" not in learned(tb.azs[0]))),
    Step("learning off", learning_off, lambda tb: not learned(tb.azs[0])),
    Step("advertising off", advertising_off,
         lambda tb: not any(az == "az2" for az, _ in published(tb))),
]


@pytest.mark.parametrize("release", [RELEASE])
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_address_sets_are_those_of_the_all_c_run(release_testbed, deployment):
    steps = all_c_run(RELEASE, STEPS)
    assert len(steps) == len(STEPS), "the 26.09 schemas lack address sets"
    sides = run_compared(release_testbed, DEPLOYMENTS[deployment], steps, STEPS)
    assert_idle([side.controller for side in sides])


@pytest.mark.parametrize("release", [RELEASE])
def test_leaving_removes_learned_and_published_sets(release_testbed):
    tb = release_testbed
    az1, az2 = tb.azs
    ours = start(tb, az1, OURS)
    start(tb, az2, REFERENCE)
    publish_and_learn(tb, ())
    wait_until(lambda: learned(az1) and learned(az2), timeout=TIMEOUT,
               message="both AZs learned the other's set")
    ours.write_config(enable_ic="false")
    ours.send(signal.SIGHUP)
    wait_until(lambda: not learned(az1) and not learned(az2)
               and not any(zone == "az1" for zone, _ in published(tb)),
               timeout=TIMEOUT, message="az1 left: its sets withdrawn, learned ones removed")
    assert {row["name"] for row in rows(az1.nbctl, "Address_Set", "name")} == {
        "az1-as1", "az1-as2"}
    assert published(tb) == {("az2", "az2-as1"): ["2.1.1.1", "2.1.1.2"]}


@pytest.mark.parametrize("release", [RELEASE])
def test_a_port_group_name_is_not_learned_and_northd_keeps_working(release_testbed):
    tb = release_testbed
    az1, az2 = tb.azs
    ours = start(tb, az1, OURS)
    start(tb, az2, REFERENCE)
    for az in tb.azs:
        az.nbctl("set", "NB_Global", ".", "options:ic-as-learn=true", "options:ic-as-adv=true")
    az1.nbctl("pg-add", "pg1")
    create(az2, "pg1_ip4", "9.9.9.9")
    create(az2, "az2-as1", "2.1.1.1")
    wait_until(lambda: "az2-as1" in learned(az1), timeout=TIMEOUT,
               message="az1 learned az2-as1")
    ours.wait_metric("ovn_ic_controller_address_sets_refused", 1.0, reason="reserved")
    assert "pg1_ip4" not in learned(az1)
    [event] = [record for record in ours.logs() if record["event"] == "address_set.refused"]
    assert (event["address_set"], event["availability_zones"]) == ("pg1_ip4", ["az2"])
    create(az1, "later", "1.2.3.4", adv=False)
    wait_until(lambda: "later" in {row["name"] for row in rows(az1.sbctl, "Address_Set", "name")},
               timeout=TIMEOUT, message="northd synced a new set to the SB")
