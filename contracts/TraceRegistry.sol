// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ICloseGuard} from "./interfaces/ICloseGuard.sol";
import {ITraceRegistry} from "./interfaces/ITraceRegistry.sol";
import {DelegatedSignatures} from "./utils/DelegatedSignatures.sol";
import {ActorRoles} from "./utils/ActorRoles.sol";
import {GS1} from "./utils/GS1.sol";

/**
 * @title TraceRegistry
 * @dev Product units and their signed lifecycle events. See {ITraceRegistry}.
 *
 * Storage per unit is one word holding the hash-chain head, the closed flag and the event count (see
 * {unitRecord}). The head is truncated to 224 bits (SHA-224-grade collision resistance) to keep flag
 * and counter in the same slot, so closing a unit costs no extra storage. Actors sign batches of
 * events (one signature per scan or scanning session): each event stays its own chain link, and one
 * signature check serves the batch.
 *
 * A parcel (SSCC) has a chain in the same mapping, keyed by its parcel id, so ordinary lifecycle
 * events record on it; besides, each parcel keeps one word (exists bit and member count) and each
 * packed unit the id of its parcel, which makes a parcel's content provable from storage.
 */
contract TraceRegistry is ITraceRegistry, AccessControl, DelegatedSignatures {
    /// @dev Accredits actors (carriers, warehouses, inspectors, partners, brands) and revokes them.
    bytes32 public constant ACCREDITOR_ROLE = keccak256("ACCREDITOR_ROLE");

    /// @dev How far an event's time may run ahead of the block that records it.
    uint256 public constant MAX_CLOCK_SKEW = 5 minutes;

    bytes32 private constant _COMMISSION_TYPEHASH =
        keccak256("Commission(uint64 gtin,string serial,uint64 location,uint40 eventTime,bytes32 evidence)");
    bytes32 private constant _COMMISSION_BATCH_TYPEHASH =
        keccak256(
            "CommissionBatch(address signer,Commission[] units,uint256 nonce,uint64 deadline)Commission(uint64 gtin,string serial,uint64 location,uint40 eventTime,bytes32 evidence)"
        );
    bytes32 private constant _EVENT_TYPEHASH =
        keccak256(
            "LifecycleEvent(bytes32 unitId,uint8 bizStep,uint8 disposition,uint64 location,uint40 eventTime,bytes32 evidence,bytes32 bizTransaction)"
        );
    bytes32 private constant _EVENT_BATCH_TYPEHASH =
        keccak256(
            "EventBatch(address signer,LifecycleEvent[] events,uint256 nonce,uint64 deadline)LifecycleEvent(bytes32 unitId,uint8 bizStep,uint8 disposition,uint64 location,uint40 eventTime,bytes32 evidence,bytes32 bizTransaction)"
        );
    bytes32 private constant _AGGREGATION_TYPEHASH =
        keccak256(
            "Aggregation(uint64 sscc,bytes32[] childIds,uint8 action,uint8 bizStep,uint8 disposition,uint64 location,uint40 eventTime,bytes32 evidence,bytes32 bizTransaction)"
        );
    bytes32 private constant _DECOMMISSION_TYPEHASH =
        keccak256("Decommission(uint64 gtin,string serial,uint8 disposition,uint64 location,uint40 eventTime,bytes32 evidence)");
    bytes32 private constant _DECOMMISSION_BATCH_TYPEHASH =
        keccak256(
            "DecommissionBatch(address signer,Decommission[] units,uint256 nonce,uint64 deadline)Decommission(uint64 gtin,string serial,uint8 disposition,uint64 location,uint40 eventTime,bytes32 evidence)"
        );
    bytes32 private constant _AGGREGATION_BATCH_TYPEHASH =
        keccak256(
            "AggregationBatch(address signer,Aggregation[] aggregations,uint256 nonce,uint64 deadline)Aggregation(uint64 sscc,bytes32[] childIds,uint8 action,uint8 bizStep,uint8 disposition,uint64 location,uint40 eventTime,bytes32 evidence,bytes32 bizTransaction)"
        );

    /// @dev Byte `s` holds the role bits allowed to sign step `s` (see {allowedRoles}). Decommissioning
    /// (step 16) has none: a brand decommissions its stock through {decommission}, partners close by
    /// their receipt.
    uint256 private constant _STEP_ROLES = 0x0024040404083406020206020707070000;
    // The record's low 32 bits: bit 31 the closed flag, bits 0-30 the event count.
    uint256 private constant _LOW_MASK = 0xffffffff;
    uint256 private constant _CLOSED = 0x80000000;
    uint256 private constant _COUNT_MASK = 0x7fffffff;
    /// @dev Bit `d` set: disposition `d` closes a unit (Destroyed, Donated, Recycled).
    uint256 private constant _CLOSING_DISPOSITIONS =
        (1 << uint8(Disposition.Destroyed)) | (1 << uint8(Disposition.Donated)) | (1 << uint8(Disposition.Recycled));
    /// @dev A parcel's word: this bit once it exists, its member count in the low 32 bits.
    uint256 private constant _PARCEL_EXISTS = 1 << 32;

    mapping(bytes32 unitId => uint256) private _units;
    mapping(uint64 gtin => Product) private _products;
    mapping(address account => Actor) private _actors;
    // at (uint40) | location << 40 (uint64) | organization << 104 (uint64): see {milestone}.
    mapping(bytes32 key => uint256) private _milestones;
    mapping(uint64 location => ReturnCenter) private _returnCenters;
    mapping(bytes32 parcelId => uint256) private _parcels;
    mapping(bytes32 unitId => bytes32 parcelId) private _parentOf;
    mapping(bytes32 prefixKey => address brand) private _prefixOwners;
    mapping(uint64 gtin => address brand) private _approvedBrands;
    address private _closeGuard;

    /// @dev Grants `admin` the default admin role and `accreditor` the accreditor role (separate keys).
    constructor(address admin, address accreditor) DelegatedSignatures("ReturnTrace TraceRegistry", "2") {
        if (admin == address(0) || accreditor == address(0)) revert TraceRegistryZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ACCREDITOR_ROLE, accreditor);
    }

    /// @inheritdoc ITraceRegistry
    function registerProduct(uint64 gtin, uint8 classFlags, uint64 markets) external {
        _checkRoles(msg.sender, ActorRoles.BRAND, uint8(BizStep.Commissioning));
        if (!GS1.isValidGtin(gtin)) revert TraceRegistryInvalidGtin(gtin);
        if (_products[gtin].brand != address(0)) revert TraceRegistryProductExists(gtin);
        if (_approvedBrands[gtin] != msg.sender && !_holdsPrefixOf(msg.sender, gtin)) {
            revert TraceRegistryProductNotApproved(gtin, msg.sender);
        }
        _products[gtin] = Product({brand: msg.sender, classFlags: classFlags, markets: markets});
        emit ProductRegistered(gtin, msg.sender, classFlags, markets);
    }

    /// @inheritdoc ITraceRegistry
    function setCompanyPrefix(uint64 prefix, uint8 digits, address brand) external onlyRole(ACCREDITOR_ROLE) {
        if (digits < 6 || digits > 12 || prefix >= 10 ** digits) revert TraceRegistryInvalidCompanyPrefix(prefix, digits);
        _prefixOwners[_prefixKey(prefix, digits)] = brand;
        emit CompanyPrefixSet(prefix, digits, brand);
    }

    /// @inheritdoc ITraceRegistry
    function approveProduct(uint64 gtin, address brand) external onlyRole(ACCREDITOR_ROLE) {
        if (!GS1.isValidGtin(gtin)) revert TraceRegistryInvalidGtin(gtin);
        _approvedBrands[gtin] = brand;
        emit ProductApproved(gtin, brand);
    }

    /// @inheritdoc ITraceRegistry
    function reviewClassFlags(uint64 gtin, uint8 classFlags, string calldata reason) external onlyRole(ACCREDITOR_ROLE) {
        Product storage prod = _products[gtin];
        if (prod.brand == address(0)) revert TraceRegistryUnknownProduct(gtin);
        uint8 previous = prod.classFlags;
        prod.classFlags = classFlags;
        emit ProductClassReviewed(gtin, previous, classFlags, reason);
        address guard = _closeGuard;
        if (guard != address(0)) ICloseGuard(guard).classFlagsReviewed(gtin, classFlags); // listings under the old flags stop selling
    }

    /// @inheritdoc ITraceRegistry
    function setCloseGuard(address guard) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (guard == address(0)) revert TraceRegistryZeroAddress();
        // Set once: a new guard could let closings through that the escrow's orders forbid.
        if (_closeGuard != address(0)) revert TraceRegistryCloseGuardSet(_closeGuard);
        _closeGuard = guard;
        emit CloseGuardSet(guard);
    }

    /// @inheritdoc ITraceRegistry
    function setActor(address account, uint32 roles, uint64 organization) external onlyRole(ACCREDITOR_ROLE) {
        if (account == address(0)) revert TraceRegistryZeroAddress();
        if (roles != 0 && !GS1.isValidGln(organization)) revert TraceRegistryInvalidGln(organization);
        _actors[account] = Actor({roles: roles, organization: organization});
        emit ActorUpdated(account, roles, organization);
    }

    /// @inheritdoc ITraceRegistry
    function setReturnCenter(uint64 location, uint64 organization, uint64 markets) external onlyRole(ACCREDITOR_ROLE) {
        if (!GS1.isValidGln(location)) revert TraceRegistryInvalidGln(location);
        if (markets == 0) {
            organization = 0; // a revoked center is run by nobody
        } else if (!GS1.isValidGln(organization)) {
            revert TraceRegistryInvalidGln(organization);
        }
        _returnCenters[location] = ReturnCenter({organization: organization, markets: markets});
        emit ReturnCenterSet(location, organization, markets);
    }

    /// @inheritdoc ITraceRegistry
    function commission(SignedCommissionBatch[] calldata batches) external {
        uint256 n = batches.length;
        if (n == 0) revert TraceRegistryEmptyBatch();
        for (uint256 i = 0; i < n; ++i) {
            _commissionBatch(batches[i]);
        }
    }

    /// @inheritdoc ITraceRegistry
    function record(SignedEventBatch[] calldata batches) external {
        uint256 n = batches.length;
        if (n == 0) revert TraceRegistryEmptyBatch();
        for (uint256 i = 0; i < n; ++i) {
            _recordBatch(batches[i]);
        }
    }

    /// @inheritdoc ITraceRegistry
    function aggregate(SignedAggregationBatch[] calldata batches) external {
        uint256 n = batches.length;
        if (n == 0) revert TraceRegistryEmptyBatch();
        for (uint256 i = 0; i < n; ++i) {
            _aggregateBatch(batches[i]);
        }
    }

    /// @inheritdoc ITraceRegistry
    function decommission(SignedDecommissionBatch[] calldata batches) external {
        uint256 n = batches.length;
        if (n == 0) revert TraceRegistryEmptyBatch();
        for (uint256 i = 0; i < n; ++i) {
            _decommissionBatch(batches[i]);
        }
    }

    /// @inheritdoc ITraceRegistry
    function closeGuard() external view returns (address) {
        return _closeGuard;
    }

    /// @inheritdoc ITraceRegistry
    function companyPrefixOwner(uint64 prefix, uint8 digits) external view returns (address) {
        return _prefixOwners[_prefixKey(prefix, digits)];
    }

    /// @inheritdoc ITraceRegistry
    function approvedBrand(uint64 gtin) external view returns (address) {
        return _approvedBrands[gtin];
    }

    /// @inheritdoc ITraceRegistry
    function customsCommitment(string calldata declarationReference, bytes32 salt) external pure returns (bytes32) {
        return keccak256(abi.encode(keccak256("ReturnTrace customs declaration"), keccak256(bytes(declarationReference)), salt));
    }

    /// @inheritdoc ITraceRegistry
    function getDecommissionTypeHashes() external pure returns (bytes32 item, bytes32 batch) {
        return (_DECOMMISSION_TYPEHASH, _DECOMMISSION_BATCH_TYPEHASH);
    }

    /// @inheritdoc ITraceRegistry
    function unitRecord(bytes32 unitId) external view returns (uint256) {
        return _units[unitId];
    }

    /// @inheritdoc ITraceRegistry
    function eventCount(bytes32 unitId) external view returns (uint32) {
        return uint32(_units[unitId] & _COUNT_MASK);
    }

    /// @inheritdoc ITraceRegistry
    function isClosed(bytes32 unitId) external view returns (bool) {
        return _units[unitId] & _CLOSED != 0;
    }

    /// @inheritdoc ITraceRegistry
    function parentOf(bytes32 unitId) external view returns (bytes32) {
        return _parentOf[unitId];
    }

    /// @inheritdoc ITraceRegistry
    function parcelSize(bytes32 parcelId) external view returns (uint32) {
        return uint32(_parcels[parcelId]);
    }

    /// @inheritdoc ITraceRegistry
    function isParcel(bytes32 id) external view returns (bool) {
        return _parcels[id] & _PARCEL_EXISTS != 0;
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
        return uint40(_milestones[_milestoneKey(unitId, bizTransaction, kind)]);
    }

    /// @inheritdoc ITraceRegistry
    function milestone(bytes32 unitId, bytes32 bizTransaction, Milestone kind) external view returns (MilestoneRecord memory) {
        uint256 packed = _milestones[_milestoneKey(unitId, bizTransaction, kind)];
        return
            MilestoneRecord({
                at: uint40(packed),
                location: uint64(packed >> 40),
                organization: uint64(packed >> 104),
                recordedAt: uint40(packed >> 168)
            });
    }

    /// @inheritdoc ITraceRegistry
    function returnCenter(uint64 location) external view returns (ReturnCenter memory) {
        return _returnCenters[location];
    }

    /// @inheritdoc ITraceRegistry
    function returnCenterAccredited(uint64 location, uint64 organization, uint32 market) external view returns (bool) {
        if (organization == 0 || market >= 64) return false;
        ReturnCenter memory center = _returnCenters[location];
        return center.organization == organization && (center.markets >> market) & 1 == 1;
    }

    /// @inheritdoc ITraceRegistry
    function unitIdOf(uint64 gtin, string calldata serial) external pure returns (bytes32) {
        return GS1.unitId(gtin, bytes(serial));
    }

    /// @inheritdoc ITraceRegistry
    function parcelIdOf(uint64 sscc) external pure returns (bytes32) {
        if (!GS1.isValidSscc(sscc)) revert TraceRegistryInvalidSscc(sscc);
        return GS1.parcelId(sscc);
    }

    /// @inheritdoc ITraceRegistry
    function getCommissionTypeHashes() external pure returns (bytes32 item, bytes32 batch) {
        return (_COMMISSION_TYPEHASH, _COMMISSION_BATCH_TYPEHASH);
    }

    /// @inheritdoc ITraceRegistry
    function getEventTypeHashes() external pure returns (bytes32 item, bytes32 batch) {
        return (_EVENT_TYPEHASH, _EVENT_BATCH_TYPEHASH);
    }

    /// @inheritdoc ITraceRegistry
    function getAggregationTypeHashes() external pure returns (bytes32 item, bytes32 batch) {
        return (_AGGREGATION_TYPEHASH, _AGGREGATION_BATCH_TYPEHASH);
    }

    /// @dev Checks every item and the one signature over them, then creates the units.
    function _commissionBatch(SignedCommissionBatch calldata b) private {
        Commission[] calldata units = b.units;
        uint256 n = units.length;
        if (n == 0) revert TraceRegistryEmptyBatch();
        address signer = b.signer;
        _checkRoles(signer, ActorRoles.BRAND, uint8(BizStep.Commissioning));

        bytes32[] memory hashes = new bytes32[](n);
        bytes32[] memory ids = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            Commission calldata c = units[i];
            address brand = _products[c.gtin].brand;
            if (brand == address(0)) revert TraceRegistryUnknownProduct(c.gtin);
            if (signer != brand) revert TraceRegistryNotBrandOf(signer, c.gtin);
            if (!GS1.isValidSerial(bytes(c.serial))) revert TraceRegistryInvalidSerial(c.serial);
            _checkWhereAndWhen(c.location, c.eventTime);
            ids[i] = GS1.unitId(c.gtin, bytes(c.serial));
            hashes[i] = keccak256(
                abi.encode(_COMMISSION_TYPEHASH, c.gtin, keccak256(bytes(c.serial)), c.location, c.eventTime, c.evidence)
            );
        }
        _useSignature(signer, _batchHash(_COMMISSION_BATCH_TYPEHASH, signer, hashes, b.nonce, b.deadline), b.nonce, b.deadline, b.signature);

        for (uint256 i = 0; i < n; ++i) {
            bytes32 unitId = ids[i];
            // Checked here, not above, so that a unit listed twice in one batch is caught too.
            if (_units[unitId] != 0) revert TraceRegistryUnitExists(unitId);
            _units[unitId] = _link(0, signer, hashes[i], false);
            Commission calldata c = units[i];
            emit UnitCommissioned(unitId, signer, c.gtin, c.serial, c.location, c.eventTime, c.evidence);
        }
    }

    /**
     * @dev Checks every decommissioning and the one signature over them, then closes each unit with a
     * link equal to the {LifecycleEvent} of step `Decommissioning` it stands for, so that histories
     * rebuild from {EventRecorded} logs alone.
     */
    function _decommissionBatch(SignedDecommissionBatch calldata b) private {
        Decommission[] calldata units = b.units;
        uint256 n = units.length;
        if (n == 0) revert TraceRegistryEmptyBatch();
        address signer = b.signer;
        uint32 roles = _checkRoles(signer, ActorRoles.BRAND, uint8(BizStep.Decommissioning));

        bytes32[] memory hashes = new bytes32[](n);
        bytes32[] memory ids = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            Decommission calldata d = units[i];
            address brand = _products[d.gtin].brand;
            if (brand == address(0)) revert TraceRegistryUnknownProduct(d.gtin);
            if (signer != brand) revert TraceRegistryNotBrandOf(signer, d.gtin);
            uint8 disposition = d.disposition;
            // The partners' dispositions are their own receipts; the brand closes with any other.
            if (
                disposition > uint8(type(Disposition).max) ||
                disposition == uint8(Disposition.Donated) ||
                disposition == uint8(Disposition.Recycled)
            ) revert TraceRegistryInvalidDisposition(disposition);
            _checkWhereAndWhen(d.location, d.eventTime);
            ids[i] = GS1.unitId(d.gtin, bytes(d.serial));
            hashes[i] = keccak256(
                abi.encode(_DECOMMISSION_TYPEHASH, d.gtin, keccak256(bytes(d.serial)), disposition, d.location, d.eventTime, d.evidence)
            );
        }
        _useSignature(signer, _batchHash(_DECOMMISSION_BATCH_TYPEHASH, signer, hashes, b.nonce, b.deadline), b.nonce, b.deadline, b.signature);

        for (uint256 i = 0; i < n; ++i) {
            bytes32 unitId = ids[i];
            uint256 prev = _units[unitId];
            if (prev == 0) revert TraceRegistryUnknownUnit(unitId);
            if (prev & _CLOSED != 0) revert TraceRegistryUnitClosed(unitId);
            Decommission calldata d = units[i];
            _checkClosing(unitId, signer, roles, uint8(BizStep.Decommissioning), d.disposition);
            bytes32 link = keccak256(
                abi.encode(_EVENT_TYPEHASH, unitId, uint8(BizStep.Decommissioning), d.disposition, d.location, d.eventTime, d.evidence, bytes32(0))
            );
            _units[unitId] = _link(prev, signer, link, true);
            emit EventRecorded(unitId, signer, uint8(BizStep.Decommissioning), d.disposition, d.location, d.eventTime, d.evidence, bytes32(0));
        }
    }

    /// @dev Checks every event and the one signature over them, then extends each unit's chain.
    function _recordBatch(SignedEventBatch calldata b) private {
        LifecycleEvent[] calldata events = b.events;
        uint256 n = events.length;
        if (n == 0) revert TraceRegistryEmptyBatch();
        address signer = b.signer;
        // Roles and organisation share one slot: one read serves the role checks and the milestones.
        Actor memory who = _actors[signer];
        uint32 roles = who.roles;

        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            LifecycleEvent calldata e = events[i];
            _checkStep(signer, roles, e.bizStep, e.disposition);
            _checkWhereAndWhen(e.location, e.eventTime);
            hashes[i] = _hashEvent(e);
        }
        _useSignature(signer, _batchHash(_EVENT_BATCH_TYPEHASH, signer, hashes, b.nonce, b.deadline), b.nonce, b.deadline, b.signature);

        for (uint256 i = 0; i < n; ++i) {
            LifecycleEvent calldata e = events[i];
            bytes32 unitId = e.unitId;
            uint256 prev = _units[unitId];
            if (prev == 0) revert TraceRegistryUnknownUnit(unitId);
            if (prev & _CLOSED != 0) revert TraceRegistryUnitClosed(unitId);
            bool closes = _closes(e.bizStep, e.disposition);
            if (closes) {
                // A parcel closes only once empty: closing it with units inside would lock them in for good.
                if (uint32(_parcels[unitId]) != 0) revert TraceRegistryParcelNotEmpty(unitId, uint32(_parcels[unitId]));
                _checkClosing(unitId, signer, roles, e.bizStep, e.disposition);
            }
            _units[unitId] = _link(prev, signer, hashes[i], closes);
            _recordMilestone(e, roles, who.organization);
            _emitEventRecorded(e, signer);
        }
    }

    /// @dev Checks every aggregation and the one signature over them, then packs or unpacks the units.
    function _aggregateBatch(SignedAggregationBatch calldata b) private {
        Aggregation[] calldata aggregations = b.aggregations;
        uint256 n = aggregations.length;
        if (n == 0) revert TraceRegistryEmptyBatch();
        address signer = b.signer;
        Actor memory who = _actors[signer];
        uint32 roles = who.roles;

        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            Aggregation calldata a = aggregations[i];
            if (!GS1.isValidSscc(a.sscc)) revert TraceRegistryInvalidSscc(a.sscc);
            uint8 action = a.action;
            if (action != uint8(AggregationAction.Add) && action != uint8(AggregationAction.Delete)) {
                revert TraceRegistryInvalidAggregationAction(action);
            }
            if (a.childIds.length == 0) revert TraceRegistryEmptyAggregation(a.sscc);
            // Packing adds and unpacking removes: no other step may move units in or out of a parcel.
            uint8 packingStep = uint8(action == uint8(AggregationAction.Add) ? BizStep.Packing : BizStep.Unpacking);
            if (a.bizStep != packingStep) revert TraceRegistryInvalidStep(a.bizStep);
            _checkStep(signer, roles, a.bizStep, a.disposition);
            // Closing is each unit's own event: an aggregation could otherwise close other brands' units.
            if (_closes(a.bizStep, a.disposition)) revert TraceRegistryInvalidDisposition(a.disposition);
            _checkWhereAndWhen(a.location, a.eventTime);
            hashes[i] = _hashAggregation(a);
        }
        _useSignature(
            signer,
            _batchHash(_AGGREGATION_BATCH_TYPEHASH, signer, hashes, b.nonce, b.deadline),
            b.nonce,
            b.deadline,
            b.signature
        );

        // A carrier packing returned units at pickup proves, for each, that the buyer sent it back.
        bool carrier = roles & ActorRoles.CARRIER != 0;
        for (uint256 i = 0; i < n; ++i) {
            Aggregation calldata a = aggregations[i];
            _applyAggregation(a, signer, hashes[i]);
            if (carrier && a.action == uint8(AggregationAction.Add) && a.disposition == uint8(Disposition.Returned)) {
                _recordParcelDispatch(a, who.organization);
            }
        }
    }

    /// @dev {Milestone-Dispatched} of each unit a carrier packs as returned, under the zero reference: the
    /// first packing since the unit's current return request counts.
    function _recordParcelDispatch(Aggregation calldata a, uint64 organization) private {
        uint256 packed = _packMilestone(a.eventTime, a.location, organization);
        bytes32[] calldata children = a.childIds;
        uint256 m = children.length;
        for (uint256 j = 0; j < m; ++j) {
            bytes32 child = children[j];
            bytes32 key = _milestoneKey(child, bytes32(0), Milestone.Dispatched);
            uint256 previous = _milestones[key];
            // A repacking (unpack and pack, or a hub's consolidation) must not push the buyer's proof of
            // dispatch back; only a packing recorded before the request (an earlier return) gives way.
            if (previous != 0 && !_predatesOrder(child, bytes32(0), previous >> 168)) continue;
            _milestones[key] = packed;
        }
    }

    /**
     * @dev Links the aggregation into the parcel's chain (which starts at its first `Add`), then packs
     * (`Add`) or unpacks (`Delete`) each unit and links it into the unit's chain. The parcel's log
     * comes first, so a reader streaming the logs has the content before the units' links to it.
     */
    function _applyAggregation(Aggregation calldata a, address signer, bytes32 structHash) private {
        bytes32 parcelId = GS1.parcelId(a.sscc);
        uint256 prev = _units[parcelId];
        if (prev & _CLOSED != 0) revert TraceRegistryUnitClosed(parcelId);
        _units[parcelId] = _link(prev, signer, structHash, false);
        _emitAggregationRecorded(a, parcelId, signer);

        bool add = a.action == uint8(AggregationAction.Add);
        bytes32[] calldata children = a.childIds;
        uint256 m = children.length;
        for (uint256 j = 0; j < m; ++j) {
            bytes32 child = children[j];
            uint256 rec = _units[child];
            if (add) {
                if (rec == 0) revert TraceRegistryUnknownUnit(child);
                // The parcel itself is not marked yet on its first `Add`, hence the equality test.
                if (child == parcelId || _parcels[child] != 0) revert TraceRegistryParcelInParcel(child);
                bytes32 parent = _parentOf[child];
                if (parent != bytes32(0)) revert TraceRegistryAlreadyPacked(child, parent);
                _parentOf[child] = parcelId;
            } else {
                if (_parentOf[child] != parcelId) revert TraceRegistryNotInParcel(child, parcelId);
                delete _parentOf[child];
            }
            if (rec & _CLOSED != 0) revert TraceRegistryUnitClosed(child);
            _units[child] = _link(rec, signer, structHash, false);
            emit UnitAggregated(child, parcelId, signer, structHash);
        }
        // Counts cannot overflow: a unit is in one parcel at a time, and 2^32 units cannot be packed in gas.
        uint256 parcel = _parcels[parcelId];
        _parcels[parcelId] = add ? (parcel | _PARCEL_EXISTS) + m : parcel - m;
    }

    /**
     * @dev Emits {AggregationRecorded}. Its data is the {Aggregation}'s ABI encoding as it sits in
     * calldata, with `action` moved before the child list (the event's order) and the list's offset
     * rebased: written out here, since the event's eleven parameters do not fit Solidity's stack.
     */
    function _emitAggregationRecorded(Aggregation calldata a, bytes32 parcelId, address signer) private {
        bytes32 topic0 = AggregationRecorded.selector;
        bytes32[] calldata children = a.childIds;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, a, 0x120)
            mstore(add(ptr, 0x20), calldataload(add(a, 0x40))) // action
            mstore(add(ptr, 0x40), 0x120) // the child list follows the nine head words
            mstore(add(ptr, 0x120), children.length)
            let size := shl(5, children.length)
            calldatacopy(add(ptr, 0x140), children.offset, size)
            log3(ptr, add(0x140, size), topic0, parcelId, signer)
        }
    }

    /**
     * @dev EIP-712 struct hash of an {Aggregation}: the child list hashes to the keccak of its ids, the
     * other fields are static and sit in calldata as EIP-712 encodes them (their ranges were checked
     * by the ABI decoder when {_aggregateBatch} read them), so they are hashed in place.
     */
    function _hashAggregation(Aggregation calldata a) private pure returns (bytes32 h) {
        bytes32 typeHash = _AGGREGATION_TYPEHASH;
        bytes32[] calldata children = a.childIds;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let size := shl(5, children.length)
            calldatacopy(ptr, children.offset, size)
            let childrenHash := keccak256(ptr, size)
            mstore(ptr, typeHash)
            calldatacopy(add(ptr, 0x20), a, 0x120)
            mstore(add(ptr, 0x40), childrenHash)
            h := keccak256(ptr, 0x140)
        }
    }

    /**
     * @dev EIP-712 struct hash of a {LifecycleEvent}. The struct is static, so calldata holds it exactly
     * as EIP-712 encodes it; the narrow fields were range-checked by the ABI decoder when
     * {_recordBatch} read them, so it is hashed in place.
     */
    function _hashEvent(LifecycleEvent calldata e) private pure returns (bytes32 h) {
        bytes32 typeHash = _EVENT_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            calldatacopy(add(ptr, 0x20), e, 0xe0)
            h := keccak256(ptr, 0x100)
        }
    }

    /// @dev EIP-712 struct hash of a signed batch, whose items hash to `itemHashes`.
    function _batchHash(
        bytes32 typeHash,
        address signer,
        bytes32[] memory itemHashes,
        uint256 nonce,
        uint64 deadline
    ) private pure returns (bytes32) {
        bytes32 itemsHash;
        assembly ("memory-safe") {
            itemsHash := keccak256(add(itemHashes, 0x20), shl(5, mload(itemHashes)))
        }
        return keccak256(abi.encode(typeHash, signer, itemsHash, nonce, deadline));
    }

    /// @dev Emits {EventRecorded}: its data is the event's fields after `unitId`, already ABI-encoded in calldata.
    function _emitEventRecorded(LifecycleEvent calldata e, address signer) private {
        bytes32 topic0 = EventRecorded.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, add(e, 0x20), 0xc0)
            log3(ptr, 0xc0, topic0, calldataload(e), signer)
        }
    }

    /// @dev Delivery to the consumer and the return warehouse's receiving scan start the escrow's clocks; the
    /// record keeps where (the scan's GLN) and who (the signer's organisation) so a policy can ask whether an
    /// accredited return center received the unit.
    function _recordMilestone(LifecycleEvent calldata e, uint32 signerRoles, uint64 organization) private {
        if (e.bizTransaction == bytes32(0)) return;
        Milestone kind;
        uint8 step = e.bizStep;
        if (step == uint8(BizStep.Delivering)) {
            kind = Milestone.Delivered;
        } else if (
            step == uint8(BizStep.Receiving) &&
            e.disposition == uint8(Disposition.Returned) &&
            signerRoles & ActorRoles.WAREHOUSE != 0
        ) {
            kind = Milestone.ReturnReceived;
        } else if (step == uint8(BizStep.Accepting) && signerRoles & ActorRoles.CARRIER != 0) {
            // The carrier took the return: the buyer's proof of dispatch. A warehouse's accepting is the merchant's side.
            kind = Milestone.Dispatched;
        } else {
            return;
        }
        bytes32 key = _milestoneKey(e.unitId, e.bizTransaction, kind);
        uint256 previous = _milestones[key];
        // The first scan counts and a later one cannot move a deadline, unless the first was recorded
        // before the order step its reference names (the guard knows the order): it proves nothing.
        if (previous != 0 && !_predatesOrder(e.unitId, e.bizTransaction, previous >> 168)) return;
        _milestones[key] = _packMilestone(e.eventTime, e.location, organization);
    }

    function _predatesOrder(bytes32 unitId, bytes32 ref, uint256 recordedAt) private view returns (bool) {
        address guard = _closeGuard;
        return guard != address(0) && ICloseGuard(guard).scanPredatesOrder(unitId, ref, recordedAt);
    }

    /// @dev A {MilestoneRecord} in one word: the attested time (never after this block), where, who, and this block's time.
    function _packMilestone(uint40 eventTime, uint64 location, uint64 organization) private view returns (uint256) {
        uint256 at = eventTime < block.timestamp ? eventTime : block.timestamp;
        return at | (uint256(location) << 40) | (uint256(organization) << 104) | (block.timestamp << 168);
    }

    /**
     * @dev A unit closes only unpacked, and only when the close guard (the escrow) says it is the
     * signer's to close; an empty parcel is no one's goods and closes without asking.
     */
    function _checkClosing(bytes32 unitId, address signer, uint32 roles, uint8 step, uint8 disposition) private view {
        if (_parcels[unitId] & _PARCEL_EXISTS != 0) return; // callers checked that it is empty
        bytes32 parent = _parentOf[unitId];
        if (parent != bytes32(0)) revert TraceRegistryAlreadyPacked(unitId, parent);
        address guard = _closeGuard;
        if (guard == address(0) || !ICloseGuard(guard).mayClose(unitId, signer, roles, step, disposition)) {
            revert TraceRegistryClosingNotAllowed(unitId, signer);
        }
    }

    /// @dev Whether `brand` holds a recorded GS1 company prefix (6 to 12 digits after the indicator) of `gtin`.
    function _holdsPrefixOf(address brand, uint64 gtin) private view returns (bool) {
        uint256 body = uint256(gtin) % 1e13;
        for (uint8 digits = 6; digits <= 12; ++digits) {
            if (_prefixOwners[_prefixKey(uint64(body / 10 ** (13 - digits)), digits)] == brand) return true;
        }
        return false;
    }

    function _prefixKey(uint64 prefix, uint8 digits) private pure returns (bytes32) {
        return bytes32((uint256(prefix) << 8) | digits);
    }

    /**
     * @dev The signer, holding `roles`, may sign `step` with `disposition`: a known step its roles
     * allow, a known disposition, and for the partners' dispositions the partner's role.
     */
    function _checkStep(address signer, uint32 roles, uint8 step, uint8 disposition) private pure {
        uint32 allowed = allowedRoles(step);
        if (allowed == 0) revert TraceRegistryInvalidStep(step);
        if (roles & allowed == 0) revert TraceRegistryRoleNotAllowed(signer, step, allowed);
        if (disposition > uint8(type(Disposition).max)) revert TraceRegistryInvalidDisposition(disposition);
        if (
            (disposition == uint8(Disposition.Donated) && roles & ActorRoles.CHARITY == 0) ||
            (disposition == uint8(Disposition.Recycled) && roles & ActorRoles.RECYCLER == 0)
        ) revert TraceRegistryDispositionNotAllowed(signer, disposition);
    }

    /// @dev Whether an event ends its unit's lifecycle (returntrace.vocab.closes mirrors this).
    function _closes(uint8 step, uint8 disposition) private pure returns (bool) {
        return (_CLOSING_DISPOSITIONS >> disposition) & 1 != 0 || step == uint8(BizStep.Decommissioning);
    }

    function _checkRoles(address signer, uint32 allowed, uint8 step) private view returns (uint32 roles) {
        roles = _actors[signer].roles;
        if (roles & allowed == 0) revert TraceRegistryRoleNotAllowed(signer, step, allowed);
    }

    function _checkWhereAndWhen(uint64 location, uint40 eventTime) private view {
        if (!GS1.isValidGln(location)) revert TraceRegistryInvalidGln(location);
        if (eventTime == 0 || eventTime > block.timestamp + MAX_CLOCK_SKEW) revert TraceRegistryInvalidEventTime(eventTime);
    }

    /// @dev The record after one more link; `prev` is not closed (callers revert on a closed unit first).
    function _link(uint256 prev, address signer, bytes32 structHash, bool closes) private pure returns (uint256 rec) {
        // 2^31 events on one unit cannot fit in any chain's gas budget, so the counter cannot reach the flag.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, prev)
            mstore(add(ptr, 0x20), signer)
            mstore(add(ptr, 0x40), structHash)
            rec := or(
                or(and(keccak256(ptr, 0x60), not(_LOW_MASK)), shl(31, closes)),
                add(and(prev, _COUNT_MASK), 1)
            )
        }
    }

    function _milestoneKey(bytes32 unitId, bytes32 bizTransaction, Milestone kind) private pure returns (bytes32) {
        return keccak256(abi.encode(unitId, bizTransaction, kind));
    }
}
