#pragma once
// `baton-percipio inspect FILE [--resources|--entitlements|--grants|--stats] [--json]`: lists what the
// latest finished full sync of a .c1z holds, like the Baton CLI's `baton resources`.
#include <ostream>
#include <string>
#include <vector>

namespace bp::cli {

// args: everything after the word `inspect`. Returns the exit status: 0 ok, 1 unreadable file
// (one "error: ..." line on err), 2 bad usage (the message names the offending argument).
int run_inspect(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace bp::cli
