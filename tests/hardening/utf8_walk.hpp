#pragma once
// Walks every string field of a protobuf message (Any payloads unpacked through the generated
// pool) and reports the ones that are not valid UTF-8: baton-sdk (Go) refuses to unmarshal those.
#include <c1/connector/v2/annotation_etag.pb.h>
#include <c1/connector/v2/annotation_resource.pb.h>
#include <c1/connector/v2/annotation_trait.pb.h>
#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bp::hardening {

inline bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;  // overlong
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// Appends "path: bytes" for every invalid string; counts every string visited in *visited.
inline void find_invalid_utf8(const google::protobuf::Message& m, const std::string& path,
                              std::vector<std::string>& bad, std::size_t* visited) {
  using google::protobuf::FieldDescriptor;
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  // Links the annotation messages in, so the generated pool knows their descriptors.
  static const bool linked = c1::connector::v2::UserTrait::descriptor() != nullptr &&
                             c1::connector::v2::ETag::descriptor() != nullptr &&
                             c1::connector::v2::SkipEntitlementsAndGrants::descriptor() != nullptr;
  (void)linked;
  if (d->full_name() == "google.protobuf.Any") {
    const auto& any = static_cast<const google::protobuf::Any&>(m);
    const std::string type = any.type_url().substr(any.type_url().rfind('/') + 1);
    const auto* td = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type);
    if (!td) {
      bad.push_back(path + ": unknown Any type " + type);
      return;
    }
    std::unique_ptr<google::protobuf::Message> inner(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(td)->New());
    if (!inner->ParseFromString(any.value())) {
      bad.push_back(path + ": undecodable " + type);
      return;
    }
    find_invalid_utf8(*inner, path + "<" + type + ">", bad, visited);
    return;
  }
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const auto* f : fields) {
    const std::string fp = path + "." + f->name();
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      auto check = [&](const std::string& s) {
        if (visited) ++*visited;
        if (!valid_utf8(s)) bad.push_back(fp + ": " + s);
      };
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) check(r->GetRepeatedString(m, f, i));
      } else {
        check(r->GetString(m, f));
      }
    } else if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) find_invalid_utf8(r->GetRepeatedMessage(m, f, i), fp, bad, visited);
      } else {
        find_invalid_utf8(r->GetMessage(m, f), fp, bad, visited);
      }
    }
  }
}

}  // namespace bp::hardening
