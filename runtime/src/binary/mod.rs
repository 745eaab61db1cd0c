//! Binary (MessagePack) encoding negotiated with `@bin_`.
