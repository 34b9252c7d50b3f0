/// The compiled-in service catalog: a byte-for-byte copy of `catalog/services.json` (a test checks it), kept in the
/// binary because SwiftPM resource bundles do not survive every way of installing an executable.
/// Regenerate with the command in docs/catalog.md after editing the JSON file.
enum DefaultCatalog {
    static let json = #"""
        {
          "catalog_version": 1,
          "services": {
            "conpot": {
              "tcp_ports": [502, 161, 80],
              "udp_ports": [],
              "build": {"template": "conpot", "args": {"BASE_IMAGE": "honeynet/conpot:latest"}},
              "container_suffix": "conpot",
              "cap_add": [],
              "environment": [{"name": "CONPOT_TEMPLATE", "value": "default"}, {"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "docker_api": {
              "tcp_ports": [2375, 2376],
              "udp_ports": [],
              "build": {"template": "docker_api"},
              "container_suffix": "docker-api",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "elasticsearch": {
              "tcp_ports": [9200],
              "udp_ports": [],
              "build": {"template": "elasticsearch"},
              "container_suffix": "elasticsearch",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "ftp": {
              "tcp_ports": [21],
              "udp_ports": [],
              "build": {"template": "ftp"},
              "container_suffix": "ftp",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "http": {
              "tcp_ports": [80, 443],
              "udp_ports": [],
              "build": {"template": "http"},
              "container_suffix": "http",
              "cap_add": [],
              "environment": [
                {"name": "NODE_NAME", "value": "{decky}"},
                {"name": "SERVER_HEADER", "knob": "server_header"},
                {"name": "RESPONSE_CODE", "knob": "response_code", "convert": "python_str"},
                {"name": "FAKE_APP", "knob": "fake_app"},
                {"name": "EXTRA_HEADERS", "knob": "extra_headers", "convert": "json_if_object"},
                {"name": "CUSTOM_BODY", "knob": "custom_body"},
                {"name": "FILES_DIR", "knob": "files", "convert": "mount_dir", "mount": "/opt/html_files"}
              ],
              "volumes": [],
              "fleet_singleton": false
            },
            "https": {
              "tcp_ports": [443],
              "udp_ports": [],
              "build": {"template": "https"},
              "container_suffix": "https",
              "cap_add": [],
              "environment": [
                {"name": "NODE_NAME", "value": "{decky}"},
                {"name": "SERVER_HEADER", "knob": "server_header"},
                {"name": "RESPONSE_CODE", "knob": "response_code", "convert": "python_str"},
                {"name": "FAKE_APP", "knob": "fake_app"},
                {"name": "EXTRA_HEADERS", "knob": "extra_headers", "convert": "json_if_object"},
                {"name": "CUSTOM_BODY", "knob": "custom_body"},
                {"name": "FILES_DIR", "knob": "files", "convert": "mount_dir", "mount": "/opt/html_files"},
                {"name": "TLS_CERT", "knob": "tls_cert"},
                {"name": "TLS_KEY", "knob": "tls_key"},
                {"name": "TLS_CN", "knob": "tls_cn"}
              ],
              "volumes": [],
              "fleet_singleton": false
            },
            "imap": {
              "tcp_ports": [143, 993],
              "udp_ports": [],
              "build": {"template": "imap"},
              "container_suffix": "imap",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "k8s": {
              "tcp_ports": [6443, 8080],
              "udp_ports": [],
              "build": {"template": "k8s"},
              "container_suffix": "k8s",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "ldap": {
              "tcp_ports": [389, 636],
              "udp_ports": [],
              "build": {"template": "ldap"},
              "container_suffix": "ldap",
              "cap_add": ["NET_BIND_SERVICE"],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "llmnr": {
              "tcp_ports": [5355, 5353],
              "udp_ports": [],
              "build": {"template": "llmnr"},
              "container_suffix": "llmnr",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "mongodb": {
              "tcp_ports": [27017],
              "udp_ports": [],
              "build": {"template": "mongodb"},
              "container_suffix": "mongodb",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "mqtt": {
              "tcp_ports": [1883],
              "udp_ports": [],
              "build": {"template": "mqtt"},
              "container_suffix": "mqtt",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "mssql": {
              "tcp_ports": [1433],
              "udp_ports": [],
              "build": {"template": "mssql"},
              "container_suffix": "mssql",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "mysql": {
              "tcp_ports": [3306],
              "udp_ports": [],
              "build": {"template": "mysql"},
              "container_suffix": "mysql",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}, {"name": "MYSQL_VERSION", "knob": "version"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "pop3": {
              "tcp_ports": [110, 995],
              "udp_ports": [],
              "build": {"template": "pop3"},
              "container_suffix": "pop3",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "postgres": {
              "tcp_ports": [5432],
              "udp_ports": [],
              "build": {"template": "postgres"},
              "container_suffix": "postgres",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "rdp": {
              "tcp_ports": [3389],
              "udp_ports": [],
              "build": {"template": "rdp"},
              "container_suffix": "rdp",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "redis": {
              "tcp_ports": [6379],
              "udp_ports": [],
              "build": {"template": "redis"},
              "container_suffix": "redis",
              "cap_add": [],
              "environment": [
                {"name": "NODE_NAME", "value": "{decky}"},
                {"name": "REDIS_VERSION", "knob": "version"},
                {"name": "REDIS_OS", "knob": "os_string"}
              ],
              "volumes": [],
              "fleet_singleton": false
            },
            "sip": {
              "tcp_ports": [5060],
              "udp_ports": [],
              "build": {"template": "sip"},
              "container_suffix": "sip",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "smb": {
              "tcp_ports": [445, 139],
              "udp_ports": [],
              "build": {"template": "smb"},
              "container_suffix": "smb",
              "cap_add": ["NET_BIND_SERVICE"],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "smtp": {
              "tcp_ports": [25, 587],
              "udp_ports": [],
              "build": {"template": "smtp"},
              "container_suffix": "smtp",
              "cap_add": ["NET_BIND_SERVICE"],
              "environment": [
                {"name": "NODE_NAME", "value": "{decky}"},
                {"name": "SMTP_BANNER", "knob": "banner"},
                {"name": "SMTP_MTA", "knob": "mta"}
              ],
              "volumes": [],
              "fleet_singleton": false
            },
            "smtp_relay": {
              "tcp_ports": [25, 587],
              "udp_ports": [],
              "build": {"template": "smtp"},
              "container_suffix": "smtp_relay",
              "cap_add": ["NET_BIND_SERVICE"],
              "environment": [
                {"name": "NODE_NAME", "value": "{decky}"},
                {"name": "SMTP_OPEN_RELAY", "value": "1"},
                {"name": "SMTP_BANNER", "knob": "banner"},
                {"name": "SMTP_MTA", "knob": "mta"}
              ],
              "volumes": [],
              "fleet_singleton": false
            },
            "snmp": {
              "tcp_ports": [161],
              "udp_ports": [],
              "build": {"template": "snmp"},
              "container_suffix": "snmp",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "ssh": {
              "tcp_ports": [22],
              "udp_ports": [],
              "build": {"template": "ssh"},
              "container_suffix": "ssh",
              "cap_add": ["NET_BIND_SERVICE"],
              "environment": [
                {"name": "SSH_ROOT_PASSWORD", "knob": "password", "default": "admin"},
                {"name": "NODE_NAME", "value": "{decky}"},
                {"name": "SSH_HOSTNAME", "knob": "hostname"}
              ],
              "volumes": ["/var/lib/decnet/artifacts/{decky}/ssh:/var/lib/systemd/coredump:rw"],
              "fleet_singleton": false
            },
            "telnet": {
              "tcp_ports": [23],
              "udp_ports": [],
              "build": {"template": "telnet"},
              "container_suffix": "telnet",
              "cap_add": ["NET_BIND_SERVICE"],
              "environment": [
                {"name": "TELNET_ROOT_PASSWORD", "knob": "password", "default": "admin"},
                {"name": "TELNET_HOSTNAME", "knob": "hostname"}
              ],
              "volumes": [],
              "fleet_singleton": false
            },
            "tftp": {
              "tcp_ports": [69],
              "udp_ports": [],
              "build": {"template": "tftp"},
              "container_suffix": "tftp",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "vnc": {
              "tcp_ports": [5900],
              "udp_ports": [],
              "build": {"template": "vnc"},
              "container_suffix": "vnc",
              "cap_add": [],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": false
            },
            "sniffer": {
              "tcp_ports": [],
              "udp_ports": [],
              "build": {"template": "sniffer"},
              "container_suffix": "sniffer",
              "cap_add": ["NET_RAW", "NET_ADMIN"],
              "environment": [{"name": "NODE_NAME", "value": "{decky}"}],
              "volumes": [],
              "fleet_singleton": true
            }
          }
        }

        """#
}
