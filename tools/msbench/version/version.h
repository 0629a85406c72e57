// What this binary was built from: `git describe` at build time (with "-dirty" when the tree
// had uncommitted changes), the commit, and the build type. Printed by --version and written
// into every results file.
#pragma once

namespace msb::cli {

extern const char* const kVersionDescribe;
extern const char* const kVersionCommit;
extern const bool kVersionDirty;
extern const char* const kVersionBuildType;

}  // namespace msb::cli
