#pragma once
// Baton record encoders: plain structs in, c1.connector.v2 protobuf bytes out (spec c1z-format.md
// sections 6 and 7). Hand-rolled wire encoding so field order is fixed (profile keys keep the caller's
// order) and the grant hot path allocates nothing per grant. Strings must be UTF-8; invalid bytes are
// replaced with U+FFFD so libprotobuf-based readers can always parse the result.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bp::c1z {

enum class trait : std::uint8_t { user = 1, group = 2, role = 3, app = 4, secret = 5 };

struct resource_type_record {
  std::string id;
  std::string display_name;
  std::vector<trait> traits;
  std::string description;
  bool skip_entitlements_and_grants = false;  // adds Any(SkipEntitlementsAndGrants)
};

struct profile_null {};
using profile_value = std::variant<profile_null, std::string, bool, double>;
struct profile_field {
  std::string key;
  profile_value value;
};

struct email_record {
  std::string address;  // entries with an empty address are not written (SDK helper behaviour)
  bool primary = false;
};

struct user_trait_record {
  std::vector<email_record> emails;
  bool enabled = true;                 // STATUS_ENABLED / STATUS_DISABLED
  std::string login;                   // omitted when empty
  std::vector<profile_field> profile;  // written in this order; omitted when empty
};

struct resource_record {
  std::string type;
  std::string id;
  std::string display_name;
  std::string description;
  std::optional<user_trait_record> user_trait;  // adds Any(UserTrait), account_type HUMAN
};

struct entitlement_record {
  std::string slug;
  std::string display_name;
  std::string description;
  std::vector<resource_type_record> grantable_to;  // full copies of the principal types
};

// "<rt>:<rid>:<slug>" and "<entitlement id>:<principal type>:<principal id>" (spec 7.2, 7.3).
std::string make_entitlement_id(std::string_view rt, std::string_view rid, std::string_view slug);
std::string make_grant_id(std::string_view entitlement_id, std::string_view principal_type,
                          std::string_view principal_id);

// Each encoder appends one serialized message to out.
void encode_resource_type(const resource_type_record& rt, std::string& out);
// A stored resource: creation_source = CONNECTOR_LIST_RESOURCES (1).
void encode_resource(const resource_record& r, std::string& out);
// Entitlement owned by `owner` (embedded as stored), purpose ASSIGNMENT.
void encode_entitlement(const resource_record& owner, const entitlement_record& e, std::string& out);
// Grant in the SDK helper's shape: minimal entitlement {id, owner + empty Any(ETag)}, bare principal id.
void encode_grant(const resource_record& owner, std::string_view slug, std::string_view principal_type,
                  std::string_view principal_id, std::string& out);

inline std::string encode_resource_type(const resource_type_record& rt) {
  std::string s;
  encode_resource_type(rt, s);
  return s;
}
inline std::string encode_resource(const resource_record& r) {
  std::string s;
  encode_resource(r, s);
  return s;
}
inline std::string encode_entitlement(const resource_record& owner, const entitlement_record& e) {
  std::string s;
  encode_entitlement(owner, e, s);
  return s;
}

// The grant hot path: the embedded entitlement is encoded once per (owner, slug); each grant then only
// appends the principal and the id. Immutable after construction, so one instance may be shared by threads.
class grant_encoder {
 public:
  grant_encoder(const resource_record& owner, std::string_view slug);

  const std::string& entitlement_id() const { return entitlement_id_; }
  const std::string& resource_type() const { return resource_type_; }
  const std::string& resource_id() const { return resource_id_; }

  struct appended {
    std::size_t offset;  // where the message starts in out
    std::size_t size;    // message length
    std::size_t id_offset;
    std::size_t id_size;  // the grant id is a suffix of the message
  };
  // Appends one Grant message to out. No allocation besides growing out.
  appended append(std::string& out, std::string_view principal_type, std::string_view principal_id) const;

  struct view {
    std::string_view bytes;
    std::string_view id;
  };
  // Encodes into `buf` (cleared first, capacity reused); the views point into buf.
  view encode(std::string& buf, std::string_view principal_type, std::string_view principal_id) const;

 private:
  std::string prefix_;  // field 1 tag + length + minimal entitlement
  std::string entitlement_id_;
  std::string resource_type_;
  std::string resource_id_;
};

}  // namespace bp::c1z
