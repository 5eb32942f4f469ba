"""The module images the simulated cluster knows (its "repository")."""

NETHVOICE_VOLUMES = ["agi-bin", "astdb", "asterisk", "customer_card", "moh", "nethcti",
                     "nethcti-server", "pbooksources", "post_scripts", "scripts",
                     "sounds", "spool", "tancredi", "phonebookcsv"]

IMAGES = {
    "nethvoice": {"name": "NethVoice", "version": "1.4.2", "max_per_node": None,
                  "categories": ["collaboration"], "rootfull": False, "ports": 8},
    "nethvoice-proxy": {"name": "NethVoice Proxy", "version": "1.1.0", "max_per_node": 1,
                        "categories": ["collaboration"], "rootfull": False, "ports": 2},
    "openldap": {"name": "OpenLDAP", "version": "2.5.1", "max_per_node": None,
                 "categories": ["account_provider"], "rootfull": False, "ports": 1},
    "samba": {"name": "Samba", "version": "3.1.0", "max_per_node": 1,
              "categories": ["account_provider"], "rootfull": True, "ports": 1},
    "nextcloud": {"name": "Nextcloud", "version": "1.6.0", "max_per_node": None,
                  "categories": ["collaboration"], "rootfull": False, "ports": 2},
    "mail": {"name": "Mail", "version": "1.7.3", "max_per_node": 1,
             "categories": ["email"], "rootfull": False, "ports": 4},
    "webtop": {"name": "WebTop", "version": "1.5.0", "max_per_node": None,
               "categories": ["collaboration"], "rootfull": False, "ports": 4},
    "dokuwiki": {"name": "DokuWiki", "version": "1.1.1", "max_per_node": None,
                 "categories": ["collaboration"], "rootfull": False, "ports": 1},
}


def image_name(image):
    """'ghcr.io/nethserver/nethvoice:1.4.2' -> 'nethvoice'."""
    base = image.rsplit("/", 1)[-1]
    return base.split("@", 1)[0].split(":", 1)[0]


def source(name):
    return "ghcr.io/nethserver/" + name


def url(name):
    return "%s:%s" % (source(name), IMAGES[name]["version"])
