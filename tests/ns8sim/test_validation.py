"""The validator alone (no namespaces): the shared schemas, $refs resolved
locally, NS8's error shape, the formats NethVoice relies on."""

import json
import os
import unittest
from unittest import mock

import jsonschema

from ns8sim.validation import SchemaSet, default_schema_dir

SCHEMAS = SchemaSet()

PWH = "b12f4f5137c4c6b4ef2efd936b88119c4af8356d4e9c3a31a18cd4a88effc41d"
KEY = "XCVh3GCRqMcmIgpHhsbCL7Usm7Lm7Hb7bsS5LTSz/Dc="

# (agent kind, action, a valid input, an invalid input, expected errors of it)
CASES = [
    ("cluster", "add-node",
     {"node_pwh": PWH, "public_key": KEY, "endpoint": "", "core_version": "0.0.0-ns7",
      "flags": ["nomodules"]},
     {"node_pwh": PWH.upper(), "public_key": KEY, "endpoint": "", "flags": "nomodules"},
     [("node_pwh", "node_pwh_pattern"), ("flags", "flags_invalid_type")]),
    ("cluster", "add-user",
     {"user": "ns7admin3", "password_hash": PWH, "set": {"display_name": "NS7 migration"},
      "grant": [{"role": "owner", "on": "*"}]},
     {"user": "NS7Admin", "password_hash": PWH, "set": {"display_name": 3},
      "grant": [{"role": "", "on": "*"}]},
     [("user", "user_pattern"), ("set.display_name", "set_invalid_type"),
      ("grant.0.role", "grant_string_gte")]),
    ("cluster", "add-external-domain",
     {"domain": "example.org", "protocol": "ldap", "host": "198.51.100.3", "port": 636,
      "schema": "rfc2307", "bind_dn": "cn=ldapservice,dc=example,dc=org",
      "bind_password": "s3cret", "base_dn": "dc=example,dc=org", "tls": True,
      "tls_verify": False},
     {"domain": "example.org", "protocol": "ldap", "host": "ldap.example.org", "port": 70000,
      "schema": "rfc2307", "bind_dn": "cn=x", "bind_password": "s", "base_dn": "",
      "tls": True, "tls_verify": False},
     [("(root)", "(root)_number_any_of"), ("(root)", "(root)_number_all_of"),
      ("port", "port_number_lte")]),
    ("cluster", "import-module",
     {"image": "nethvoice", "node": 1, "volumes": ["sounds", "spool"]},
     {"image": "nethvoice", "node": 0, "volumes": "sounds"},
     [("node", "node_number_gte"), ("volumes", "volumes_invalid_type")]),
    ("cluster", "add-module", {"image": "nethvoice-proxy", "node": 2},
     {"image": "nethvoice-proxy"}, [("(root)", "(root)_required")]),
    ("cluster", "remove-module", {"module_id": "nethvoice1", "preserve_data": False},
     {"module_id": "nethvoice1", "preserve_data": "no"},
     [("preserve_data", "preserve_data_invalid_type")]),
    ("cluster", "remove-external-domain", {"domain": "example.org"}, {"domain": ""},
     [("domain", "domain_string_gte")]),
    ("cluster", "remove-node", {"node_id": 3}, {"node_id": "3"},
     [("node_id", "node_id_invalid_type")]),
    ("cluster", "remove-user", {"user": "ns7admin3"}, {"user": "ns7 admin"},
     [("user", "user_pattern")]),
    ("cluster", "update-routes", {"add": [{"ip_address": "192.0.2.10", "node_id": 3}]},
     {"add": [{"ip_address": "192.0.2.300", "node_id": 0}]},
     [("add.0.ip_address", "add_format"), ("add.0.node_id", "add_number_gt")]),
    ("cluster", "list-modules", None, {}, [("(root)", "(root)_invalid_type")]),
    ("module", "import-module",
     {"credentials": ["nethvoice1", "s3cr3t"], "port": 20001, "volumes": ["sounds"]},
     {"credentials": ["nethvoice1"], "port": 0, "volumes": ["sounds"]},
     [("credentials", "credentials_array_min_items"), ("port", "port_number_gte")]),
    ("nethvoice", "configure-module",
     {"nethvoice_host": "voice.example.org", "nethcti_ui_host": "cti.example.org",
      "reports_international_prefix": "0039", "user_domain": "example.org",
      "timezone": "Europe/Rome", "lets_encrypt": True},
     {"nethvoice_host": "voice", "nethcti_ui_host": "10.0.0.1",
      "reports_international_prefix": "+39123"},
     [("nethvoice_host", "nethvoice_host_pattern"),
      ("nethcti_ui_host", "nethcti_ui_host_number_not"),
      ("reports_international_prefix", "reports_international_prefix_pattern")]),
]


class ValidationTest(unittest.TestCase):
    def test_valid_inputs_pass(self):
        for kind, action, good, _, _ in CASES:
            with self.subTest(action=action):
                self.assertEqual(SCHEMAS.validate(kind, action, "input", good), [])

    def test_invalid_inputs_give_ns8_error_arrays(self):
        for kind, action, _, bad, expected in CASES:
            with self.subTest(action=action):
                errs = SCHEMAS.validate(kind, action, "input", bad)
                self.assertEqual(sorted((e["field"], e["error"]) for e in errs),
                                 sorted(expected), errs)
                for e in errs:
                    self.assertEqual(set(e), {"field", "parameter", "value", "error"})
                    self.assertEqual(e["parameter"], e["field"].split(".")[0])
                    self.assertTrue(e["error"].startswith(e["parameter"] + "_"))
                json.dumps(errs)

    def test_error_values_are_the_offending_values(self):
        errs = SCHEMAS.validate("cluster", "update-routes", "input",
                                {"add": [{"ip_address": "192.0.2.300", "node_id": 3}]})
        self.assertEqual(errs, [{"field": "add.0.ip_address", "parameter": "add",
                                 "value": "192.0.2.300", "error": "add_format"}])
        errs = SCHEMAS.validate("cluster", "add-node", "input", {"node_pwh": PWH})
        self.assertEqual(errs, [{"field": "(root)", "parameter": "(root)",
                                 "value": {"node_pwh": PWH}, "error": "(root)_required"}] * 2)

    def test_hostname_and_ipv4_formats(self):
        def host_errors(value):
            doc = {"nethvoice_host": value, "nethcti_ui_host": "cti.example.org",
                   "reports_international_prefix": "+39"}
            return [e["error"] for e in SCHEMAS.validate("nethvoice", "configure-module",
                                                         "input", doc)]
        self.assertEqual(host_errors("voice.example.org"), [])
        self.assertEqual(host_errors("voice-1.sub.example.org"), [])
        self.assertIn("nethvoice_host_format", host_errors("voice_1.example.org"))
        self.assertIn("nethvoice_host_format", host_errors("-voice.example.org"))
        self.assertIn("nethvoice_host_format", host_errors("voice..example.org"))
        self.assertIn("nethvoice_host_format", host_errors("a" * 64 + ".example.org"))
        self.assertEqual(host_errors("192.0.2.1"), ["nethvoice_host_number_not"])
        self.assertEqual(host_errors("localhost"), ["nethvoice_host_pattern"])

    def test_outputs_are_checked_too(self):
        out = {"node_id": 3, "ip_address": "198.51.100.3", "network": "198.51.100.0/24",
               "leader_core_version": "3.9.0", "leader_public_key": KEY,
               "leader_ip_address": "198.51.100.1", "leader_endpoint": "leader.ns8.test:55820"}
        self.assertEqual(SCHEMAS.validate("cluster", "add-node", "output", out), [])
        out["leader_ip_address"] = "leader"
        self.assertEqual([e["error"] for e in SCHEMAS.validate("cluster", "add-node", "output",
                                                               out)],
                         ["leader_ip_address_format"])
        self.assertIsNone(SCHEMAS.validate("cluster", "add-node-nonexistent", "input", {}))

    def test_refs_are_resolved_locally_never_fetched(self):
        with mock.patch("urllib.request.urlopen", side_effect=AssertionError("network")):
            s = SchemaSet()
            self.assertEqual([e["error"] for e in s.validate(
                "cluster", "add-user", "input",
                {"user": "x", "password_hash": "nothex", "set": {}, "grant": []})],
                ["password_hash_string_gte", "password_hash_pattern"])
        # a schema pointing anywhere else is refused rather than downloaded
        v = jsonschema.Draft7Validator({"$ref": "http://example.org/x.json"},
                                       resolver=type(s.validator("cluster", "add-user", "input")
                                                     .resolver)("", {}))
        with self.assertRaises(jsonschema.RefResolutionError):
            list(v.iter_errors({}))

    def test_schema_dir_comes_from_the_environment(self):
        with mock.patch.dict(os.environ, {"NS8M_SHARED_DIR": "/somewhere"}):
            self.assertEqual(default_schema_dir(), "/somewhere/ns8-api/schemas")


if __name__ == "__main__":
    unittest.main()
