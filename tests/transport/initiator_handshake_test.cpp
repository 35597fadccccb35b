// InitiatorHandshake: the initiator's UDP handshake states (kIdle,
// kInitSent, kFinalSent), which index it owns in each, and the retransmit
// timer that doubles per retry and the timeout, both on times passed in.

#include "transport/detail/initiator_handshake.hpp"

#include <chrono>

#include <gtest/gtest.h>

#include "core/crypto/x25519.hpp"

namespace nyx::transport::detail {
namespace {

using std::chrono::milliseconds;

class InitiatorHandshakeTest : public ::testing::Test {
 protected:
  NoiseHandshake noise() {
    return NoiseHandshake::initiator(local_, remote_.public_key, as_bytes(kLinkPrologue));
  }

  crypto::X25519KeyPair local_ = crypto::X25519KeyPair::generate();
  crypto::X25519KeyPair remote_ = crypto::X25519KeyPair::generate();
};

TEST_F(InitiatorHandshakeTest, StartsIdleAndOwnsNothing) {
  InitiatorHandshake h;
  EXPECT_EQ(h.state(), HandshakeState::kIdle);
  EXPECT_TRUE(h.idle());
  EXPECT_FALSE(h.owns(0));
  EXPECT_FALSE(h.retransmit_due(Nanos{milliseconds(1'000'000)}));
}

TEST_F(InitiatorHandshakeTest, InitSentThenFinalSentThenIdle) {
  InitiatorHandshake h;
  h.start(noise(), 42, Nanos{milliseconds(1000)}, milliseconds(200));
  EXPECT_EQ(h.state(), HandshakeState::kInitSent);
  EXPECT_EQ(h.index(), 42u);
  EXPECT_TRUE(h.owns(42));
  EXPECT_FALSE(h.owns(43));
  std::array<std::uint8_t, NoiseHandshake::kMessage1Size> message{};
  EXPECT_TRUE(h.noise().write_message({}, message));

  h.final_sent();
  EXPECT_EQ(h.state(), HandshakeState::kFinalSent);
  EXPECT_TRUE(h.owns(42));  // the index now names the session awaiting confirmation
  EXPECT_TRUE(h.retransmit_due(Nanos{milliseconds(1200)}));

  h.finish();
  EXPECT_EQ(h.state(), HandshakeState::kIdle);
  EXPECT_FALSE(h.owns(42));
  EXPECT_FALSE(h.retransmit_due(Nanos{milliseconds(1'000'000)}));
}

TEST_F(InitiatorHandshakeTest, AbandonedFromInitSentIsIdleAndCanStartAgain) {
  InitiatorHandshake h;
  h.start(noise(), 7, Nanos{}, milliseconds(200));
  h.finish();
  EXPECT_TRUE(h.idle());
  h.start(noise(), 8, Nanos{milliseconds(5000)}, milliseconds(200));
  EXPECT_EQ(h.state(), HandshakeState::kInitSent);
  EXPECT_TRUE(h.owns(8));
  EXPECT_FALSE(h.owns(7));
  EXPECT_FALSE(h.timed_out(Nanos{milliseconds(5999)}, milliseconds(1000)));
  EXPECT_TRUE(h.timed_out(Nanos{milliseconds(6000)}, milliseconds(1000)));
}

TEST_F(InitiatorHandshakeTest, RetransmitIntervalDoublesPerRetry) {
  InitiatorHandshake h;
  const Nanos start{milliseconds(1000)};
  h.start(noise(), 1, start, milliseconds(200));
  EXPECT_FALSE(h.retransmit_due(start + milliseconds(199)));
  EXPECT_TRUE(h.retransmit_due(start + milliseconds(200)));

  const Nanos first = start + milliseconds(200);
  h.retransmitted(first);  // next after 400 ms
  EXPECT_FALSE(h.retransmit_due(first + milliseconds(399)));
  EXPECT_TRUE(h.retransmit_due(first + milliseconds(400)));

  const Nanos second = first + milliseconds(400);
  h.retransmitted(second);  // next after 800 ms
  EXPECT_FALSE(h.retransmit_due(second + milliseconds(799)));
  EXPECT_TRUE(h.retransmit_due(second + milliseconds(800)));
  // The timeout counts from start(), not from the last retry.
  EXPECT_TRUE(h.timed_out(start + milliseconds(5000), milliseconds(5000)));
}

TEST_F(InitiatorHandshakeTest, RetransmitBufferHoldsTheLastMessage) {
  InitiatorHandshake h;
  h.start(noise(), 1, Nanos{}, milliseconds(200));
  h.retransmit_buffer()[0] = 1;
  EXPECT_EQ(h.retransmit().size(), kDatagramSize);
  EXPECT_EQ(h.retransmit()[0], 1);
  h.final_sent();
  h.retransmit_buffer()[0] = 3;
  EXPECT_EQ(h.retransmit()[0], 3);
}

}  // namespace
}  // namespace nyx::transport::detail
