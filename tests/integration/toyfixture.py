"""The tests' toy app (tests/profiles/toy.yaml): what NS7 holds for it, and
the simulator image it becomes on NS8.

On NS7 the toy is an e-smith record (the profile's `detect`), one service
`toyd` (its e-smith record and a running, enabled unit), a few files under
/var/lib/toy owned by several users, and a small MariaDB database `toydb`."""

import os

from harness import util
from harness.systemd_standin import NETHVOICE_UNITS

PROFILES_DIR = os.path.join(util.source_dir(), "tests", "profiles")
PROFILE = os.path.join(PROFILES_DIR, "toy.yaml")

# The simulator's "toy" image: its import-module restores state/restore/
# through MariaDB's entrypoint; its configure-module schema is the one the
# profile names (NS8 ships it with the image).
# Its two companions are plain modules.
IMAGES = {"toy": {"name": "Toy", "version": "0.1.0", "restore": "mariadb",
                  "schemas": os.path.join(PROFILES_DIR, "schemas", "toy")},
          "toy-shelf": {"name": "Toy shelf"}, "toy-lamp": {"name": "Toy lamp"}}
COMPANIONS = ["toy-shelf", "toy-lamp"]

# The profile's owner of every copied file on NS8.
OWNER = (1201, 1202)
SERVICE = "toyd.service"
# NS7's units: the toy's own, and two that are not the toy's (the web server
# reloads the redirect; the database server may serve other apps).
NOT_TOY = ("httpd.service", "mariadb.service")
UNITS = {name: NETHVOICE_UNITS[name] for name in NOT_TOY}
UNITS[SERVICE] = {"ActiveState": "active", "SubState": "running", "UnitFileState": "enabled"}
DATABASE = "toydb"
COLOUR = "green"

# /var/lib/toy: path -> (content, uid, gid, mode)
FILES = {
    "settings.ini": ("[toy]\nsize = small\n", 0, 0, 0o644),
    "boxes/red.txt": ("a red box\n", 1000, 1000, 0o640),
    "boxes/blue.txt": ("a blue box\n" * 100, 48, 48, 0o600),
    "boxes/deep/inside/marble.bin": (bytes(range(256)) * 40, 0, 0, 0o644),
}


def esmith_add(path, key, typ, **props):
    """Appends one record to an e-smith DB file."""
    with open(path, "a") as f:
        f.write(key + "=" + "|".join([typ] + [x for k in sorted(props) for x in (k, props[k])]) + "\n")


def install(sb):
    """Puts the toy on the sandbox's NS7: records, files, database."""
    config = os.path.join(sb.root, "var/lib/nethserver/db/configuration")
    esmith_add(config, "toy", "configuration", Colour=COLOUR, status="enabled")
    esmith_add(config, "toyd", "service", TCPPort="8765", access="green", status="enabled")
    for rel, (content, uid, gid, mode) in FILES.items():
        write(sb, rel, content, uid, gid, mode)
    sb.mysql.sql("CREATE DATABASE %s;\n"
                 "CREATE TABLE %s.toys (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL,"
                 " colour VARCHAR(10), bought DATE, price DECIMAL(6,2)) DEFAULT CHARSET=utf8mb4;\n"
                 "INSERT INTO %s.toys (name, colour, bought, price) VALUES "
                 "('spinning top', 'red', '2019-05-01', 3.50), ('kite', NULL, '2020-07-14', 12.00), "
                 "('orsacchiotto \u00e8 qui', 'brown', NULL, 25.99), ('yo-yo', 'blue', '2021-01-02', 1.20);\n"
                 % (DATABASE, DATABASE, DATABASE))


def write(sb, rel, content, uid=0, gid=0, mode=0o644):
    path = os.path.join(sb.root, "var/lib/toy", rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(content.encode() if isinstance(content, str) else content)
    os.chown(path, uid, gid)
    os.chmod(path, mode)
    return path
