#include "data-service/job_registry.hpp"

#include <utility>

namespace switchyard::data {

bool JobRegistry::Register(std::string type, PayloadValidator validate, JobHandler run) {
  if (type.empty() || !validate || !run || types_.count(type) > 0) return false;
  types_.emplace(std::move(type), JobType{std::move(validate), std::move(run)});
  return true;
}

const JobType* JobRegistry::Find(std::string_view type) const {
  const auto it = types_.find(type);
  return it == types_.end() ? nullptr : &it->second;
}

std::vector<std::string> JobRegistry::Types() const {
  std::vector<std::string> names;
  names.reserve(types_.size());
  for (const auto& [name, type] : types_) names.push_back(name);
  return names;
}

}  // namespace switchyard::data
