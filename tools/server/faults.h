// Every way the built-in world can misbehave on purpose, in one registry: the scenario key
// `fault` takes its names, the worker asks for a fault the way its row says (a server path,
// a port it refuses on, a DNS answer), and the trickle server answers its paths by it.
// scenarios/faults/ has one scenario per row, each stating in [expect] how it must end.
#pragma once

#include <string>
#include <vector>

namespace msb::server {

enum class FaultKind {
  none,
  server,        // the trickle server misbehaves on the row's path
  refused,       // the worker connects to a port it holds bound but not listening
  dns_nxdomain,  // the name is in dnsmasq's domain but not known to it
  dns_refused,   // the name is outside dnsmasq's domain (it forwards nowhere)
  dns_silent,    // every lookup goes to a DNS server that never answers
  tls,           // scheme https: the trickle server's listener for the row's name misbehaves
                 // in the TLS handshake itself (before any path is sent)
};

struct Fault {
  const char* name;
  FaultKind kind;
  const char* path;  // server faults: the path that asks for it
  const char* what;  // what the client sees
};

const std::vector<Fault>& faults();
const Fault* find_fault(const std::string& name);
std::vector<std::string> fault_names();

}  // namespace msb::server
