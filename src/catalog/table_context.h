// What every catalog table shares: where its operations run, and how lists are asked for.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

namespace catalog_internal {
class Db;
}

// Where a table's operations run: on their own (each call is one transaction of its own), or
// inside an open Transaction. Tables are made by Catalog and Transaction (CatalogTables);
// nothing else needs to build one. Cheap to copy; must not outlive the Catalog.
struct TableContext {
  catalog_internal::Db* db = nullptr;
  uint64_t transaction = 0;  // the serial of the Transaction the calls join; 0: none
};

// Which records a List call returns, always ordered by id (byte order), so that `after_id`
// pages through them stably while records come and go.
struct ListQuery {
  std::string owner_id{};  // only records of this account; "" = any owner
  // Images and snapshots only (InvalidArgument elsewhere): records this account may use:
  // its own, public ones (permission group "all"), and those shared with it (permission for
  // its id). "" = no such restriction.
  std::string visible_to{};
  std::vector<std::string> ids{};  // only these ids (unknown ones are simply absent); empty = any
  std::string after_id{};          // only ids greater than this: the last id of the previous page
  int limit = 0;                   // at most this many; 0 = no limit; negative: InvalidArgument
  // Images only (InvalidArgument elsewhere): only records whose name matches one of these
  // SQLite GLOB patterns (* any run, ? one character, [[] a literal [). Empty = any name.
  std::vector<std::string> name_globs{};
};

}  // namespace kiln
