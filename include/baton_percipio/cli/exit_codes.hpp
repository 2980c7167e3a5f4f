#pragma once
// Process exit statuses of baton-percipio. Documented in README; scripts and schedulers rely on them.

namespace bp::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_internal = 1;       // internal error or anything not covered below
inline constexpr int exit_config = 2;         // missing or malformed configuration, bad command line
inline constexpr int exit_auth = 3;           // Percipio refused the token or organization (401/403);
                                              // in service mode also: ConductorOne refused the client credentials
inline constexpr int exit_upstream = 4;       // Percipio kept failing after the retries
inline constexpr int exit_output = 5;         // the .c1z could not be written
inline constexpr int exit_interrupted = 130;  // SIGINT/SIGTERM

}  // namespace bp::cli
