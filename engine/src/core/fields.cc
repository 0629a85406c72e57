#include "msb/fields.h"

namespace msb {

const char* rule_name(Rule r) {
  switch (r) {
    case Rule::measured:
      return "measured";
    case Rule::total:
      return "total";
    case Rule::max:
      return "max";
    case Rule::min:
      return "min";
    case Rule::any:
      return "any";
    case Rule::label:
      return "label";
    case Rule::histogram:
      return "histogram";
  }
  return "unknown";
}

}  // namespace msb
