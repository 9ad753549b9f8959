// Recording measurements into a table file: exclusive lock, read, update, atomic write.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "core/file_util.h"
#include "gemmsift/error.h"
#include "gemmsift/lut.h"

namespace gemmsift {

namespace {

class FileLock {
 public:
  explicit FileLock(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      throw Error(ErrorCode::io, fmt::format("{}: cannot open lock file: {}", path, std::strerror(errno)));
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd_);
      throw Error(ErrorCode::io, fmt::format("{}: cannot lock: {}", path, std::strerror(err)));
    }
  }
  ~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

bool record_measurement(const std::string& path, const Problem& problem, const LutConfig& config,
                        const RecordOptions& options) {
  problem.validate();
  config.config.validate();
  FileLock lock(path + ".lock");
  LookupTable table;
  if (detail::file_exists(path)) {
    // A table that does not load cleanly is never rewritten: rewriting would drop what could not
    // be read. Unknown fields are tolerated only when not strict, and then kept out of the table
    // too, so refuse on any warning.
    std::vector<std::string> warnings;
    table = LookupTable::load(path, LutLoadOptions{options.strict}, &warnings);
    if (!warnings.empty()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: not recording into a table with problems (fix them first): {}", path,
                              warnings.front()));
    }
  }
  table.set_name(path);
  if (!table.upsert(problem, config, options.max_configs)) return false;
  table.save(path);
  return true;
}

}  // namespace gemmsift
