// How the workers of one instance learn that tracked users changed, so answers rendered before
// the change are not served again (docs/read-path.md).
#pragma once

#include <cstdint>

namespace gist {

class ChangeSignal {
public:
    virtual ~ChangeSignal() = default;
    // Moves on every change; an answer rendered at another generation is stale.
    virtual std::uint64_t generation() const = 0;
    virtual void bump() = 0;
};

// One process only (tests, or a deployment without shared memory).
class LocalChangeSignal final : public ChangeSignal {
public:
    std::uint64_t generation() const override { return generation_; }
    void bump() override { ++generation_; }

private:
    std::uint64_t generation_ = 0;
};

}  // namespace gist
