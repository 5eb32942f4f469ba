"""The live introspection of the helper equals the contract in dbus/."""

import os
import unittest
import xml.etree.ElementTree as ET

from harness import APP_IFACE, JOB_IFACE, MANAGER_IFACE, ROOT_PATH, app_path
from harness.testing import SandboxTestCase
from harness import util

CONTRACT = os.path.join(util.source_dir(), "dbus", "org.nethserver.Ns8Migration1.xml")
OUR_PREFIX = "org.nethserver.Ns8Migration1."
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"


def _annotations(el):
    return tuple(sorted((a.get("name"), a.get("value")) for a in el.findall("annotation")))


def describe(iface_el):
    """A comparable description of one <interface>: every method, property,
    signal and annotation, with argument names, types and directions."""
    methods, props, signals = {}, {}, {}
    for m in iface_el.findall("method"):
        args = tuple((a.get("name"), a.get("type"), a.get("direction", "in")) for a in m.findall("arg"))
        methods[m.get("name")] = (args, _annotations(m))
    for p in iface_el.findall("property"):
        props[p.get("name")] = (p.get("type"), p.get("access"), _annotations(p))
    for s in iface_el.findall("signal"):
        args = tuple((a.get("name"), a.get("type")) for a in s.findall("arg"))
        signals[s.get("name")] = (args, _annotations(s))
    return {"methods": methods, "properties": props, "signals": signals,
            "annotations": _annotations(iface_el)}


def interfaces(xml_text):
    root = ET.fromstring(xml_text)
    return {i.get("name"): i for i in root.findall("interface")}


def differences(expected, actual):
    """Human-readable differences between two describe() results."""
    out = []
    for kind, what in (("methods", "method"), ("properties", "property"), ("signals", "signal")):
        e, a = expected[kind], actual[kind]
        for name in sorted(set(e) | set(a)):
            if name not in a:
                out.append(f"{what} {name} missing")
            elif name not in e:
                out.append(f"{what} {name} not in the contract")
            elif e[name] != a[name]:
                out.append(f"{what} {name}: contract {e[name]} != live {a[name]}")
    if expected["annotations"] != actual["annotations"]:
        out.append(f"interface annotations: contract {expected['annotations']} "
                   f"!= live {actual['annotations']}")
    return out


class IntrospectionTest(SandboxTestCase):
    sandbox_options = dict(files=300, cdr_rows=50)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(CONTRACT) as f:
            cls.contract = interfaces(f.read())

    def check(self, path, iface):
        live = interfaces(self.bus.introspect(path))
        self.assertIn(iface, live, f"{path} does not implement {iface}; it has {sorted(live)}")
        problems = differences(describe(self.contract[iface]), describe(live[iface]))
        self.assertEqual(problems, [], f"{iface} on {path} differs from {CONTRACT}:\n  "
                         + "\n  ".join(problems))
        return live

    def test_contract_lists_three_interfaces(self):
        self.assertEqual(sorted(n for n in self.contract if n.startswith(OUR_PREFIX)),
                         sorted([MANAGER_IFACE, APP_IFACE, JOB_IFACE]))

    def test_root_object(self):
        live = self.check(ROOT_PATH, MANAGER_IFACE)
        self.assertIn(OBJECT_MANAGER, live, "the root object must implement the ObjectManager")
        ours = sorted(n for n in live if n.startswith(OUR_PREFIX))
        self.assertEqual(ours, [MANAGER_IFACE], "the root object's own interfaces")

    def test_app_object(self):
        live = self.check(app_path("nethvoice"), APP_IFACE)
        self.assertEqual(sorted(n for n in live if n.startswith(OUR_PREFIX)), [APP_IFACE])

    def test_job_object(self):
        job, rec = self.bus.scan("nethvoice")
        self.assertTrue(job.startswith(ROOT_PATH + "/jobs/"), job)
        live = self.check(job, JOB_IFACE)
        self.assertEqual(sorted(n for n in live if n.startswith(OUR_PREFIX)), [JOB_IFACE])
        self.bus.wait_job(job, rec, 60, "the scan")

    def test_managed_objects_use_contract_interfaces(self):
        objects = self.bus.managed_objects()
        self.assertIn(app_path("nethvoice"), objects)
        for path, ifaces in objects.items():
            for name, props in ifaces.items():
                if not name.startswith(OUR_PREFIX):
                    continue
                expected = {p.get("name") for p in self.contract[name].findall("property")}
                self.assertEqual(set(props), expected,
                                 f"GetManagedObjects of {path} gives {name} other properties")


if __name__ == "__main__":
    unittest.main()
