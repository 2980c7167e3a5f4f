#include "baton_percipio/c1z/records.hpp"

#include "wire.hpp"

namespace bp::c1z {
namespace wire {

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t n;
    std::uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) <= n) return false;
    for (std::size_t i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    static constexpr std::uint32_t min_cp[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    p += n + 1;
  }
  return true;
}

std::string repair_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  std::size_t i = 0;
  while (i < s.size()) {
    // Find the longest valid prefix one sequence at a time.
    std::size_t len = 1;
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0xc0 && c < 0xe0) len = 2;
    else if (c >= 0xe0 && c < 0xf0) len = 3;
    else if (c >= 0xf0 && c < 0xf8) len = 4;
    if (i + len <= s.size() && valid_utf8(s.substr(i, len)) && (c < 0x80 || c >= 0xc0)) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\xef\xbf\xbd");
      ++i;
    }
  }
  return out;
}

}  // namespace wire

namespace {

constexpr std::string_view type_prefix = "type.googleapis.com/c1.connector.v2.";

void put_any(std::string& out, std::uint32_t field, std::string_view message, std::string_view value) {
  std::string any;
  std::string url;
  url.reserve(type_prefix.size() + message.size());
  url.append(type_prefix).append(message);
  wire::put_string(any, 1, url);
  if (!value.empty()) wire::put_len(any, 2, value);
  wire::put_len(out, field, any);
}

void put_resource_id(std::string& out, std::uint32_t field, std::string_view type, std::string_view id) {
  std::string rid;
  wire::put_string(rid, 1, type);
  wire::put_string(rid, 2, id);
  wire::put_len(out, field, rid);
}

void encode_profile(const std::vector<profile_field>& fields, std::string& out) {
  std::string entry;
  std::string value;
  for (const auto& f : fields) {
    value.clear();
    if (std::holds_alternative<profile_null>(f.value)) {
      wire::put_tag(value, 1, wire::varint_type);
      wire::put_varint(value, 0);
    } else if (const auto* d = std::get_if<double>(&f.value)) {
      wire::put_double(value, 2, *d);
    } else if (const auto* s = std::get_if<std::string>(&f.value)) {
      // A oneof member is written even when empty.
      if (wire::valid_utf8(*s)) {
        wire::put_len(value, 3, *s);
      } else {
        wire::put_len(value, 3, wire::repair_utf8(*s));
      }
    } else if (const auto* b = std::get_if<bool>(&f.value)) {
      wire::put_tag(value, 4, wire::varint_type);
      wire::put_varint(value, *b ? 1 : 0);
    }
    entry.clear();
    if (wire::valid_utf8(f.key)) {
      wire::put_len(entry, 1, f.key);
    } else {
      wire::put_len(entry, 1, wire::repair_utf8(f.key));
    }
    wire::put_len(entry, 2, value);
    wire::put_len(out, 1, entry);
  }
}

void encode_user_trait(const user_trait_record& u, std::string& out) {
  for (const auto& e : u.emails) {
    if (e.address.empty()) continue;
    std::string email;
    wire::put_string(email, 1, e.address);
    wire::put_uint(email, 2, e.primary ? 1 : 0);
    wire::put_len(out, 1, email);
  }
  std::string status;
  wire::put_uint(status, 1, u.enabled ? 1 : 2);
  wire::put_len(out, 2, status);
  if (!u.profile.empty()) {
    std::string profile;
    encode_profile(u.profile, profile);
    wire::put_len(out, 3, profile);
  }
  wire::put_uint(out, 5, 1);  // ACCOUNT_TYPE_HUMAN
  wire::put_string(out, 6, u.login);
}

// Resource as stored, with optional extra Any annotations appended after the trait.
void encode_resource_with(const resource_record& r, bool etag, std::string& out) {
  put_resource_id(out, 1, r.type, r.id);
  wire::put_string(out, 3, r.display_name);
  if (r.user_trait) {
    std::string trait;
    encode_user_trait(*r.user_trait, trait);
    put_any(out, 4, "UserTrait", trait);
  }
  if (etag) put_any(out, 4, "ETag", {});
  wire::put_string(out, 5, r.description);
  wire::put_uint(out, 8, 1);  // CREATION_SOURCE_CONNECTOR_LIST_RESOURCES
}

}  // namespace

std::string make_entitlement_id(std::string_view rt, std::string_view rid, std::string_view slug) {
  std::string id;
  id.reserve(rt.size() + rid.size() + slug.size() + 2);
  id.append(rt).append(1, ':').append(rid).append(1, ':').append(slug);
  return id;
}

std::string make_grant_id(std::string_view entitlement_id, std::string_view principal_type,
                          std::string_view principal_id) {
  return make_entitlement_id(entitlement_id, principal_type, principal_id);
}

void encode_resource_type(const resource_type_record& rt, std::string& out) {
  wire::put_string(out, 1, rt.id);
  wire::put_string(out, 2, rt.display_name);
  if (!rt.traits.empty()) {
    std::string packed;
    for (auto t : rt.traits) wire::put_varint(packed, static_cast<std::uint64_t>(t));
    wire::put_len(out, 3, packed);
  }
  if (rt.skip_entitlements_and_grants) put_any(out, 4, "SkipEntitlementsAndGrants", {});
  wire::put_string(out, 5, rt.description);
}

void encode_resource(const resource_record& r, std::string& out) { encode_resource_with(r, false, out); }

void encode_entitlement(const resource_record& owner, const entitlement_record& e, std::string& out) {
  std::string res;
  encode_resource_with(owner, false, res);
  wire::put_len(out, 1, res);
  wire::put_string(out, 2, make_entitlement_id(owner.type, owner.id, e.slug));
  wire::put_string(out, 3, e.display_name);
  wire::put_string(out, 4, e.description);
  std::string rt;
  for (const auto& g : e.grantable_to) {
    rt.clear();
    encode_resource_type(g, rt);
    wire::put_len(out, 5, rt);
  }
  wire::put_uint(out, 7, 1);  // PURPOSE_VALUE_ASSIGNMENT
  wire::put_string(out, 8, e.slug);
}

void encode_grant(const resource_record& owner, std::string_view slug, std::string_view principal_type,
                  std::string_view principal_id, std::string& out) {
  grant_encoder(owner, slug).append(out, principal_type, principal_id);
}

grant_encoder::grant_encoder(const resource_record& owner, std::string_view slug)
    : entitlement_id_(make_entitlement_id(owner.type, owner.id, slug)),
      resource_type_(owner.type),
      resource_id_(owner.id) {
  std::string ent;
  std::string res;
  encode_resource_with(owner, true, res);
  wire::put_len(ent, 1, res);
  wire::put_string(ent, 2, entitlement_id_);
  wire::put_len(prefix_, 1, ent);
  if (!wire::valid_utf8(entitlement_id_)) entitlement_id_ = wire::repair_utf8(entitlement_id_);
}

grant_encoder::appended grant_encoder::append(std::string& out, std::string_view principal_type,
                                              std::string_view principal_id) const {
  // Rare path: repair invalid UTF-8 (allocates), then encode the repaired copies.
  if (!wire::valid_utf8(principal_type) || !wire::valid_utf8(principal_id)) {
    const std::string t = wire::repair_utf8(principal_type);
    const std::string i = wire::repair_utf8(principal_id);
    return append(out, t, i);
  }
  using wire::varint_size;
  // principal = Resource{ id [1] = ResourceId{ resource_type [1], resource [2] } }
  const std::size_t rid_len =
      (principal_type.empty() ? 0 : 1 + varint_size(principal_type.size()) + principal_type.size()) +
      (principal_id.empty() ? 0 : 1 + varint_size(principal_id.size()) + principal_id.size());
  const std::size_t res_len = 1 + varint_size(rid_len) + rid_len;
  const std::size_t id_len = entitlement_id_.size() + 1 + principal_type.size() + 1 + principal_id.size();
  const std::size_t total =
      prefix_.size() + 1 + varint_size(res_len) + res_len + 1 + varint_size(id_len) + id_len;

  const std::size_t start = out.size();
  out.reserve(start + total);
  out.append(prefix_);
  wire::put_tag(out, 2, wire::len_type);
  wire::put_varint(out, res_len);
  wire::put_tag(out, 1, wire::len_type);
  wire::put_varint(out, rid_len);
  if (!principal_type.empty()) wire::put_len(out, 1, principal_type);
  if (!principal_id.empty()) wire::put_len(out, 2, principal_id);
  wire::put_tag(out, 3, wire::len_type);
  wire::put_varint(out, id_len);
  const std::size_t id_offset = out.size();
  out.append(entitlement_id_).append(1, ':').append(principal_type).append(1, ':').append(principal_id);
  return {start, out.size() - start, id_offset, id_len};
}

grant_encoder::view grant_encoder::encode(std::string& buf, std::string_view principal_type,
                                          std::string_view principal_id) const {
  buf.clear();
  const auto a = append(buf, principal_type, principal_id);
  return {std::string_view(buf).substr(a.offset, a.size), std::string_view(buf).substr(a.id_offset, a.id_size)};
}

}  // namespace bp::c1z
