// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ITraceRegistry} from "./interfaces/ITraceRegistry.sol";
import {DelegatedSignatures} from "./utils/DelegatedSignatures.sol";
import {ActorRoles} from "./utils/ActorRoles.sol";
import {GS1} from "./utils/GS1.sol";

/**
 * @title TraceRegistry
 * @dev Product units and their signed lifecycle events. See {ITraceRegistry}.
 *
 * Storage per unit is one word: `record = (head & ~0xffffffff) | count`, where after the n-th event
 * `head_n = keccak256(abi.encode(record_{n-1}, structHash_n))` with `record_0 = 0`, and `structHash_n`
 * is the EIP-712 struct hash of the n-th signed message. The head is thus truncated to 224 bits
 * (SHA-224-grade collision resistance) to keep the counter in the same slot.
 */
contract TraceRegistry is ITraceRegistry, AccessControl, DelegatedSignatures {
    /// @dev Accredits actors (carriers, warehouses, inspectors, partners, brands) and revokes them.
    bytes32 public constant ACCREDITOR_ROLE = keccak256("ACCREDITOR_ROLE");

    /// @dev How far an event's time may run ahead of the block that records it.
    uint256 public constant MAX_CLOCK_SKEW = 5 minutes;

    bytes32 private constant _COMMISSION_TYPEHASH =
        keccak256(
            "Commission(address signer,uint64 gtin,string serial,uint64 location,uint40 eventTime,bytes32 evidence,uint256 nonce,uint64 deadline)"
        );
    bytes32 private constant _EVENT_TYPEHASH =
        keccak256(
            "LifecycleEvent(address signer,bytes32 unitId,uint8 bizStep,uint8 disposition,uint64 location,uint40 eventTime,bytes32 evidence,bytes32 bizTransaction,uint256 nonce,uint64 deadline)"
        );

    /// @dev Byte `s` holds the role bits allowed to sign step `s` (see {allowedRoles}).
    uint256 private constant _STEP_ROLES = 0x2124040404083406020206020707070000;
    uint256 private constant _COUNT_MASK = 0xffffffff;

    mapping(bytes32 unitId => uint256) private _units;
    mapping(uint64 gtin => Product) private _products;
    mapping(address account => Actor) private _actors;
    mapping(bytes32 key => uint40) private _milestones;

    constructor(address admin) DelegatedSignatures("ReturnTrace TraceRegistry", "1") {
        if (admin == address(0)) revert TraceRegistryZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ACCREDITOR_ROLE, admin);
    }

    /// @inheritdoc ITraceRegistry
    function registerProduct(uint64 gtin, uint8 classFlags, uint64 markets) external {
        _checkRoles(msg.sender, ActorRoles.BRAND, uint8(BizStep.Commissioning));
        if (!GS1.isValidGtin(gtin)) revert TraceRegistryInvalidGtin(gtin);
        if (_products[gtin].brand != address(0)) revert TraceRegistryProductExists(gtin);
        _products[gtin] = Product({brand: msg.sender, classFlags: classFlags, markets: markets});
        emit ProductRegistered(gtin, msg.sender, classFlags, markets);
    }

    /// @inheritdoc ITraceRegistry
    function setActor(address account, uint32 roles, uint64 organization) external onlyRole(ACCREDITOR_ROLE) {
        if (account == address(0)) revert TraceRegistryZeroAddress();
        if (roles != 0 && !GS1.isValidGln(organization)) revert TraceRegistryInvalidGln(organization);
        _actors[account] = Actor({roles: roles, organization: organization});
        emit ActorUpdated(account, roles, organization);
    }

    /// @inheritdoc ITraceRegistry
    function commission(SignedCommission[] calldata batch) external {
        uint256 n = batch.length;
        if (n == 0) revert TraceRegistryEmptyBatch();
        for (uint256 i = 0; i < n; ) {
            _commission(batch[i]);
            unchecked {
                ++i;
            }
        }
    }

    /// @inheritdoc ITraceRegistry
    function record(SignedEvent[] calldata batch) external {
        uint256 n = batch.length;
        if (n == 0) revert TraceRegistryEmptyBatch();
        for (uint256 i = 0; i < n; ) {
            _record(batch[i]);
            unchecked {
                ++i;
            }
        }
    }

    /// @inheritdoc ITraceRegistry
    function unitRecord(bytes32 unitId) external view returns (uint256) {
        return _units[unitId];
    }

    /// @inheritdoc ITraceRegistry
    function eventCount(bytes32 unitId) external view returns (uint32) {
        return uint32(_units[unitId]);
    }

    /// @inheritdoc ITraceRegistry
    function product(uint64 gtin) external view returns (Product memory) {
        return _products[gtin];
    }

    /// @inheritdoc ITraceRegistry
    function actor(address account) external view returns (Actor memory) {
        return _actors[account];
    }

    /// @inheritdoc ITraceRegistry
    function allowedRoles(uint8 bizStep) public pure returns (uint32) {
        return uint32((_STEP_ROLES >> (uint256(bizStep) * 8)) & 0xff);
    }

    /// @inheritdoc ITraceRegistry
    function milestoneAt(bytes32 unitId, bytes32 bizTransaction, Milestone kind) external view returns (uint40) {
        return _milestones[_milestoneKey(unitId, bizTransaction, kind)];
    }

    /// @inheritdoc ITraceRegistry
    function unitIdOf(uint64 gtin, string calldata serial) external pure returns (bytes32) {
        return GS1.unitId(gtin, bytes(serial));
    }

    /// @inheritdoc ITraceRegistry
    function getCommissionTypeHash() external pure returns (bytes32) {
        return _COMMISSION_TYPEHASH;
    }

    /// @inheritdoc ITraceRegistry
    function getEventTypeHash() external pure returns (bytes32) {
        return _EVENT_TYPEHASH;
    }

    function _commission(SignedCommission calldata c) private {
        address brand = _products[c.gtin].brand;
        if (brand == address(0)) revert TraceRegistryUnknownProduct(c.gtin);
        if (c.signer != brand) revert TraceRegistryNotBrandOf(c.signer, c.gtin);
        _checkRoles(c.signer, ActorRoles.BRAND, uint8(BizStep.Commissioning));
        if (!GS1.isValidSerial(bytes(c.serial))) revert TraceRegistryInvalidSerial(c.serial);
        _checkWhereAndWhen(c.location, c.eventTime);

        bytes32 unitId = GS1.unitId(c.gtin, bytes(c.serial));
        if (_units[unitId] != 0) revert TraceRegistryUnitExists(unitId);

        bytes32 structHash = keccak256(
            abi.encode(
                _COMMISSION_TYPEHASH,
                c.signer,
                c.gtin,
                keccak256(bytes(c.serial)),
                c.location,
                c.eventTime,
                c.evidence,
                c.nonce,
                c.deadline
            )
        );
        _useSignature(c.signer, structHash, c.nonce, c.deadline, c.signature);

        uint256 rec = _link(0, structHash);
        _units[unitId] = rec;
        emit UnitCommissioned(
            unitId,
            c.signer,
            c.gtin,
            c.serial,
            c.location,
            c.eventTime,
            c.evidence,
            c.nonce,
            c.deadline,
            rec
        );
    }

    function _record(SignedEvent calldata e) private {
        bytes32 unitId = e.unitId;
        uint256 prev = _units[unitId];
        if (prev == 0) revert TraceRegistryUnknownUnit(unitId);
        uint8 step = e.bizStep;
        uint32 allowed = allowedRoles(step);
        if (allowed == 0) revert TraceRegistryInvalidStep(step);
        if (e.disposition > uint8(type(Disposition).max)) revert TraceRegistryInvalidDisposition(e.disposition);
        uint32 roles = _checkRoles(e.signer, allowed, step);
        _checkWhereAndWhen(e.location, e.eventTime);

        // The struct's static head (signer … deadline) is laid out in calldata exactly as EIP-712
        // encodes it; every field narrower than a word is read (so range-checked by the ABI decoder)
        // above or in {_useSignature}, so hash it in place.
        bytes32 structHash;
        bytes32 typeHash = _EVENT_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            calldatacopy(add(ptr, 0x20), e, 0x140)
            structHash := keccak256(ptr, 0x160)
        }
        _useSignature(e.signer, structHash, e.nonce, e.deadline, e.signature);

        uint256 rec = _link(prev, structHash);
        _units[unitId] = rec;
        _recordMilestone(e, roles);
        _emitEventRecorded(e, rec);
    }

    /// @dev Emits {EventRecorded}: its data is the message's fields from `bizStep` to `deadline`,
    /// which lie in calldata already ABI-encoded, followed by the new record.
    function _emitEventRecorded(SignedEvent calldata e, uint256 rec) private {
        bytes32 topic0 = EventRecorded.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, add(e, 0x40), 0x100)
            mstore(add(ptr, 0x100), rec)
            log3(ptr, 0x120, topic0, calldataload(add(e, 0x20)), calldataload(e))
        }
    }

    /// @dev Delivery to the consumer and the return warehouse's receiving scan start the escrow's clocks.
    function _recordMilestone(SignedEvent calldata e, uint32 signerRoles) private {
        if (e.bizTransaction == bytes32(0)) return;
        Milestone kind;
        if (e.bizStep == uint8(BizStep.Delivering)) {
            kind = Milestone.Delivered;
        } else if (
            e.bizStep == uint8(BizStep.Receiving) &&
            e.disposition == uint8(Disposition.Returned) &&
            signerRoles & ActorRoles.WAREHOUSE != 0
        ) {
            kind = Milestone.ReturnReceived;
        } else {
            return;
        }
        bytes32 key = _milestoneKey(e.unitId, e.bizTransaction, kind);
        if (_milestones[key] != 0) return; // the first scan counts; a later one cannot move a deadline
        _milestones[key] = e.eventTime < block.timestamp ? e.eventTime : uint40(block.timestamp);
    }

    function _checkRoles(address signer, uint32 allowed, uint8 step) private view returns (uint32 roles) {
        roles = _actors[signer].roles;
        if (roles & allowed == 0) revert TraceRegistryRoleNotAllowed(signer, step, allowed);
    }

    function _checkWhereAndWhen(uint64 location, uint40 eventTime) private view {
        if (!GS1.isValidGln(location)) revert TraceRegistryInvalidGln(location);
        if (eventTime == 0 || eventTime > block.timestamp + MAX_CLOCK_SKEW) revert TraceRegistryInvalidEventTime(eventTime);
    }

    function _link(uint256 prev, bytes32 structHash) private pure returns (uint256) {
        // 2^32 events on one unit cannot fit in any chain's gas budget, so the counter cannot wrap.
        uint256 count = (prev & _COUNT_MASK) + 1;
        return (uint256(keccak256(abi.encode(prev, structHash))) & ~_COUNT_MASK) | count;
    }

    function _milestoneKey(bytes32 unitId, bytes32 bizTransaction, Milestone kind) private pure returns (bytes32) {
        return keccak256(abi.encode(unitId, bizTransaction, kind));
    }
}
