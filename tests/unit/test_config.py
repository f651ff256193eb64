"""controller.conf parsing: remotes, defaults, overrides, errors, and round trips."""

import dataclasses
import re

import pytest

from ovn_ic_controller import config
from ovn_ic_controller.config import ConfigError

IC = {"ic-db-host": "10.0.0.1"}


def write(tmp_path, text, name="controller.conf"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def load_text(tmp_path, body):
    return config.load(write(tmp_path, "[controller]\n" + body))


# ------------------------------------------------------------------ remotes

def test_several_hosts_make_one_clustered_remote(tmp_path):
    conf = load_text(tmp_path, "ic-db-host =  10.0.0.1 ,   fd00::1\n")
    assert conf.ic_db_host == ("10.0.0.1", "fd00::1")
    assert conf.ic_nb_remote == "tcp:10.0.0.1:6645,tcp:[fd00::1]:6645"
    assert conf.ic_sb_remote == "tcp:10.0.0.1:6646,tcp:[fd00::1]:6646"
    assert conf.remotes["ic_nb"] == conf.ic_nb_remote


def test_hosts_may_be_names_or_bracketed_ipv6_and_ports_and_scheme_apply(tmp_path):
    conf = load_text(tmp_path, "ic-db-host = ic-1.example.org,[FD00::0:2],10.0.0.3\n"
                               "ic-nb-port = 7645\nic-sb-port = 7646\n")
    assert conf.ic_nb_remote == "tcp:ic-1.example.org:7645,tcp:[fd00::2]:7645,tcp:10.0.0.3:7645"
    assert conf.ic_sb_remote == "tcp:ic-1.example.org:7646,tcp:[fd00::2]:7646,tcp:10.0.0.3:7646"


def test_ssl_scheme_with_keys_builds_ssl_remotes(tmp_path):
    conf = load_text(tmp_path, "ic-db-host = 10.0.0.1,10.0.0.2\nic-db-scheme = ssl\n"
                               "ssl-private-key = /k.pem\nssl-certificate = /c.pem\n"
                               "ssl-ca-cert = /ca.pem\n")
    assert conf.ic_nb_remote == "ssl:10.0.0.1:6645,ssl:10.0.0.2:6645"
    assert conf.uses_ssl


def test_full_remotes_override_host_and_port(tmp_path):
    conf = load_text(tmp_path, "ic-db-host = 10.0.0.1\nic-nb-port = 1\n"
                               "ic-nb-db = tcp:192.0.2.1:16645 , tcp:[fd00::9]:16645\n"
                               "ic-sb-db = unix:/run/ic/sb.sock\n")
    assert conf.ic_nb_remote == "tcp:192.0.2.1:16645,tcp:[fd00::9]:16645"
    assert conf.ic_sb_remote == "unix:/run/ic/sb.sock"


def test_full_remotes_make_ic_db_host_unnecessary(tmp_path):
    conf = load_text(tmp_path, "ic-nb-db = unix:/a.sock\nic-sb-db = unix:/b.sock\n")
    assert conf.ic_db_host == ()
    assert conf.remotes == {"nb": "unix:/var/run/ovn/ovnnb_db.sock",
                            "sb": "unix:/var/run/ovn/ovnsb_db.sock",
                            "ic_nb": "unix:/a.sock", "ic_sb": "unix:/b.sock"}


def test_defaults(tmp_path):
    conf = load_text(tmp_path, "ic-db-host = 10.0.0.1\n")
    assert conf.enable_ic is True
    assert conf.az_name == ""
    assert (conf.ic_nb_port, conf.ic_sb_port) == (6645, 6646)
    assert conf.ic_db_scheme == "tcp"
    assert (conf.ic_nb_db, conf.ic_sb_db) == ("", "")
    assert conf.ovn_nb_db == "unix:/var/run/ovn/ovnnb_db.sock"
    assert conf.ovn_sb_db == "unix:/var/run/ovn/ovnsb_db.sock"
    assert conf.gw_nodes == ()
    assert conf.auto_route is None
    assert (conf.ssl_private_key, conf.ssl_certificate, conf.ssl_ca_cert) == ("", "", "")
    assert conf.metrics_address == ("127.0.0.1", 9476)
    assert conf.probe_interval_ms is None
    assert not conf.uses_ssl
    assert conf.path.endswith("controller.conf")


def test_values_are_parsed(tmp_path):
    conf = load_text(tmp_path, "enable-ic = No\naz-name =  east \nic-db-host = 10.0.0.1\n"
                               "gw-nodes = gw1, gw2 ,,gw1\nauto-route = on\n"
                               "metrics-address = [::1]:0\nprobe-interval-ms = 0\n")
    assert conf.enable_ic is False
    assert conf.az_name == "east"
    assert conf.gw_nodes == ("gw1", "gw2")
    assert conf.auto_route is True
    assert conf.metrics_address == ("::1", 0)
    assert conf.probe_interval_ms == 0


def test_empty_file_without_ic_hosts_is_an_error_and_a_disabled_ic_needs_none(tmp_path):
    with pytest.raises(ConfigError, match="key 'ic-db-host' = ''"):
        config.load(write(tmp_path, ""))
    assert config.load(write(tmp_path, "[controller]\nenable-ic = false\n")).enable_ic is False


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("body, key, value, expected", [
    ("enable-ic = maybe", "enable-ic", "maybe", "a boolean"),
    ("auto-route = sometimes", "auto-route", "sometimes", "a boolean"),
    ("ic-nb-port = 70000", "ic-nb-port", "70000", "a TCP port number from 1 to 65535"),
    ("ic-sb-port = 0", "ic-sb-port", "0", "a TCP port number from 1 to 65535"),
    ("ic-sb-port = http", "ic-sb-port", "http", "a TCP port number"),
    ("ic-db-host = 10.0.0.999", "ic-db-host", "10.0.0.999", "host names or IP addresses"),
    ("ic-db-host = bad_host!", "ic-db-host", "bad_host!", "host names or IP addresses"),
    ("ic-db-host = 10.0.0.1,,10.0.0.2", "ic-db-host", "10.0.0.1,,10.0.0.2", "none empty"),
    ("ic-db-host = [10.0.0.1", "ic-db-host", "[10.0.0.1", "host names or IP addresses"),
    ("ic-db-scheme = http", "ic-db-scheme", "http", "one of tcp, ssl"),
    ("ic-nb-db = 10.0.0.1:6645", "ic-nb-db", "10.0.0.1:6645", "an OVSDB remote"),
    ("metrics-address = 9476", "metrics-address", "9476", "HOST:PORT"),
    ("probe-interval-ms = 10", "probe-interval-ms", "10", "0 (off) or at least 1000"),
])
def test_bad_value_names_file_key_value_and_expectation(tmp_path, body, key, value, expected):
    hosts = "" if key == "ic-db-host" else "ic-db-host = 10.0.0.1\n"
    path = write(tmp_path, f"[controller]\n{hosts}{body}\n")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: key '{key}' = '{value}': expected ")
    assert expected in message
    assert "\n" not in message
    assert info.value.exit_code == 78


def test_unknown_key_suggests_the_closest(tmp_path):
    path = write(tmp_path, "[controller]\nic-db-host = 10.0.0.1\naz-nmae = east\n")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: unknown key 'az-nmae' = 'east': expected ")
    assert message.endswith("did you mean 'az-name'?")


def test_unknown_key_without_a_close_one_has_no_suggestion():
    with pytest.raises(ConfigError) as info:
        config.from_mapping({**IC, "zzzzzz": "1"}, "f.conf")
    assert "unknown key 'zzzzzz'" in str(info.value)
    assert "did you mean" not in str(info.value)


def test_keys_are_case_sensitive(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'AZ-NAME'"):
        load_text(tmp_path, "ic-db-host = 10.0.0.1\nAZ-NAME = east\n")


@pytest.mark.parametrize("missing", ["ssl-private-key", "ssl-certificate", "ssl-ca-cert"])
def test_ssl_scheme_needs_key_cert_and_ca(tmp_path, missing):
    keys = {"ssl-private-key": "/k.pem", "ssl-certificate": "/c.pem", "ssl-ca-cert": "/ca.pem"}
    keys[missing] = ""
    body = "ic-db-host = 10.0.0.1\nic-db-scheme = ssl\n" + "".join(
        f"{key} = {value}\n" for key, value in keys.items())
    path = write(tmp_path, "[controller]\n" + body)
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert str(info.value) == (f"{path}: key '{missing}' = '': expected a file path, "
                               f"because ssl: remotes are configured")


def test_an_ssl_remote_needs_the_keys_too():
    with pytest.raises(ConfigError, match="key 'ssl-private-key' = ''"):
        config.from_mapping({**IC, "ic-sb-db": "ssl:10.0.0.1:6646"})


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.conf")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert str(info.value).startswith(f"{path}: file not found")


def test_not_an_ini_file_and_a_foreign_section(tmp_path):
    with pytest.raises(ConfigError, match="not a valid INI file"):
        config.load(write(tmp_path, "ic-db-host = 10.0.0.1\n"))
    with pytest.raises(ConfigError, match=r"unknown section \[ovn\]"):
        config.load(write(tmp_path, "[controller]\nic-db-host = 10.0.0.1\n[ovn]\na = b\n"))


def test_a_value_continued_over_two_lines_is_reported_on_one(tmp_path):
    path = write(tmp_path, "[controller]\nic-db-host = 10.0.0.1\n  10.0.0.2\n")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert "\n" not in str(info.value)
    assert "key 'ic-db-host' = '10.0.0.1\\n10.0.0.2'" in str(info.value)


# ------------------------------------------------------------- round trips

def test_check_config_output_is_the_effective_configuration(tmp_path):
    conf = load_text(tmp_path, "az-name = east\nic-db-host = 10.0.0.1, fd00::1\n"
                               "gw-nodes = gw1,gw2\nmetrics-address = [::1]:9000\n")
    text = conf.render()
    lines = text.splitlines()
    assert lines[0] == f"# effective configuration from {conf.path}"
    assert "az-name = east" in lines
    assert "ic-db-host = 10.0.0.1,fd00::1" in lines
    assert "ic-nb-port = 6645" in lines
    assert "enable-ic = true" in lines
    assert "metrics-address = [::1]:9000" in lines
    assert "# ic-nb-db in effect: tcp:10.0.0.1:6645,tcp:[fd00::1]:6645" in lines
    assert "# ic-sb-db in effect: tcp:10.0.0.1:6646,tcp:[fd00::1]:6646" in lines
    for option in config.OPTIONS:
        assert any(line.split(" =")[0] == option.key for line in lines), option.key
    # What check-config prints is itself a valid file meaning the same.
    again = config.load(write(tmp_path, text, "effective.conf"))
    assert dataclasses.replace(again, path=conf.path) == conf


def test_sample_config_parses_back_once_ic_db_host_is_filled_in(tmp_path):
    sample = config.sample()
    for option in config.OPTIONS:
        assert re.search(rf"^{option.key} =", sample, re.M), option.key
    with pytest.raises(ConfigError, match="ic-db-host"):
        config.load(write(tmp_path, sample, "as-is.conf"))
    filled, count = re.subn(r"^ic-db-host =[ \t]*$", "ic-db-host = 10.0.0.1", sample, flags=re.M)
    assert count == 1
    conf = config.load(write(tmp_path, filled, "sample.conf"))
    defaults = config.from_mapping(IC, conf.path)
    assert conf == defaults
    assert conf.ic_nb_remote == "tcp:10.0.0.1:6645"
