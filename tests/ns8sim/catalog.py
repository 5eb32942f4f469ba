"""The module images the simulated cluster knows (its "repository").

Each image: its display "name", "version", "max_per_node", "categories",
"rootfull", how many TCP "ports" a module gets, and optionally
  "restore"  what its import-module restores from state/ once the transfer
             phase ends: "mariadb" (restore/ through MariaDB's entrypoint,
             restore_background/ at configure-module: moduledb.py) or
             "nethvoice" (that and NethVoice's own steps: nethvoice.py) or
             "openldap" (the LDIF dump into a real slapd, and the new
             internal user domain: openldap.py);
  "schemas"  a folder of <action>/validate-input.json (and -output) for
             the image's own actions, when the shared schemas have none;
  "reads"    configure-module input keys its actions read beyond the
             schema's properties.
A test adds images of its own with Cluster(images={...}) (add_images).
"""

import os

NETHVOICE_VOLUMES = ["agi-bin", "astdb", "asterisk", "customer_card", "moh", "nethcti",
                     "nethcti-server", "pbooksources", "post_scripts", "scripts",
                     "sounds", "spool", "tancredi", "phonebookcsv"]

IMAGES = {
    "nethvoice": {"name": "NethVoice", "version": "1.4.2", "max_per_node": None,
                  "categories": ["collaboration"], "rootfull": False, "ports": 8,
                  "restore": "nethvoice"},
    "nethvoice-proxy": {"name": "NethVoice Proxy", "version": "1.1.0", "max_per_node": 1,
                        "categories": ["collaboration"], "rootfull": False, "ports": 2},
    "openldap": {"name": "OpenLDAP", "version": "2.5.1", "max_per_node": None,
                 "categories": ["account_provider"], "rootfull": False, "ports": 1,
                 "restore": "openldap"},
    "samba": {"name": "Samba", "version": "3.1.0", "max_per_node": 1,
              "categories": ["account_provider"], "rootfull": True, "ports": 1,
              "schemas": os.path.join(os.path.dirname(os.path.abspath(__file__)), "images",
                                      "samba")},
    "nextcloud": {"name": "Nextcloud", "version": "1.6.0", "max_per_node": None,
                  "categories": ["collaboration"], "rootfull": False, "ports": 2},
    "mail": {"name": "Mail", "version": "1.7.3", "max_per_node": 1,
             "categories": ["email"], "rootfull": False, "ports": 4},
    "webtop": {"name": "WebTop", "version": "1.5.0", "max_per_node": None,
               "categories": ["collaboration"], "rootfull": False, "ports": 4},
    "dokuwiki": {"name": "DokuWiki", "version": "1.1.1", "max_per_node": None,
                 "categories": ["collaboration"], "rootfull": False, "ports": 1},
}


IMAGE_KEYS = {"name", "version", "max_per_node", "categories", "rootfull", "ports", "restore",
              "schemas", "reads"}


def add_images(images):
    """Adds (or replaces) images: {name: {key: value}}, keys as above; name
    and version default to the image name and 1.0.0."""
    for name, info in images.items():
        unknown = set(info) - IMAGE_KEYS
        if unknown:
            raise ValueError("image %s: unknown keys %s" % (name, ", ".join(sorted(unknown))))
        if info.get("restore") not in (None, "mariadb", "nethvoice", "openldap"):
            raise ValueError("image %s: restore must be mariadb, nethvoice or openldap" % name)
        entry = {"name": name, "version": "1.0.0", "max_per_node": None,
                 "categories": ["collaboration"], "rootfull": False, "ports": 1}
        entry.update(info)
        IMAGES[name] = entry


def image_name(image):
    """'ghcr.io/nethserver/nethvoice:1.4.2' -> 'nethvoice'."""
    base = image.rsplit("/", 1)[-1]
    return base.split("@", 1)[0].split(":", 1)[0]


def source(name):
    return "ghcr.io/nethserver/" + name


def url(name):
    return "%s:%s" % (source(name), IMAGES[name]["version"])
