// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @dev Requests signed off-chain by an actor (EIP-712) and submitted by anyone, in the manner of
 * the Ethereum Attestation Service's delegated requests: every signed message carries the signer,
 * the signer's current nonce and a deadline; the domain binds it to one chain and one contract.
 */
interface IDelegatedSignatures {
    /// @dev The signed message's deadline has passed.
    /// @param deadline The message's deadline (unix seconds).
    error SignatureExpired(uint64 deadline);

    /// @dev The signed message's nonce is not the signer's current nonce (used, cancelled or out of order).
    /// @param signer The message's signer.
    /// @param expected The signer's current nonce.
    /// @param provided The nonce the message carries.
    error SignatureInvalidNonce(address signer, uint256 expected, uint256 provided);

    /// @dev The signature is neither a valid ECDSA signature by `signer` nor accepted by `signer` under ERC-1271.
    /// @param signer The signer the message names.
    error SignatureInvalid(address signer);

    /// @dev The new nonce of {increaseNonce} does not exceed the current one.
    /// @param current The caller's current nonce.
    /// @param provided The nonce asked for.
    error SignatureNonceTooLow(uint256 current, uint256 provided);

    /// @dev Emitted when `signer` cancels every outstanding message signed with a nonce below `newNonce`.
    event NonceIncreased(address indexed signer, uint256 oldNonce, uint256 newNonce);

    /**
     * @dev Returns the nonce the next message signed by `signer` must carry.
     * @param signer The signer.
     * @return The signer's current nonce.
     */
    function getNonce(address signer) external view returns (uint256);

    /**
     * @dev Cancels every message the caller signed with a nonce below `newNonce`.
     *
     * Requirements:
     *
     * - `newNonce` is greater than the caller's current nonce.
     *
     * Emits a {NonceIncreased} event.
     * @param newNonce The caller's new nonce; every message signed with a lower one is cancelled.
     */
    function increaseNonce(uint256 newNonce) external;

    /**
     * @dev Returns the EIP-712 domain separator of this contract on the current chain.
     * @return The domain separator.
     */
    function getDomainSeparator() external view returns (bytes32);
}
