// Package pki is the hub's small certificate authority and the TLS settings of every Bailiff
// link: an ECDSA P-256 CA made on the hub's first start (or certificate files given by the
// operator), the hub's server certificate for its names and addresses, agent client
// certificates bound to one site and room, certificate revocation lists for external brokers,
// and the TLS 1.2+ configurations of servers and clients.
//
// An agent certificate names its room in a URI subject alternative name,
// bailiff:agent/{site}/{room}, and in its common name, agent/{site}/{room}: the MQTT user name
// of that agent, so a broker can take the user name from the certificate (mosquitto's
// use_identity_as_username reads the common name).
package pki
