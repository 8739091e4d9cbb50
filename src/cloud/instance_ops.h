// Instance lifecycle as the control plane runs it: the catalog's state moves first (what the
// API answers), the runtime does the work, and the catalog records the outcome. Transitions
// that take seconds (stop, reboot, terminate) run in the background (Cloud::Background).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/records.h"
#include "runtime/runtime.h"

namespace kiln {

class Cloud;

// Whether the instance's root device is an instance-store disk (launched from an
// instance-store-backed image): it can be rebooted and terminated, not stopped or imaged.
bool InstanceStoreBacked(const Instance& instance);

// The runtime's view of a catalog instance: its attached EBS volumes (opened) and its
// instance-store disks, user data and type limits. An instance-store-backed instance's root is
// an instance-store disk of its image's root snapshot's size, filled from that snapshot each
// time the disk is made (FailedPrecondition or NotFound if the image or snapshot is gone).
Result<InstanceConfig> RuntimeConfig(Cloud& cloud, const Instance& instance);

// Registers a new instance (state pending, volumes attached in the catalog) with the runtime
// and boots it: running, or terminated with StateReason Server.InternalError if it cannot boot
// (its DeleteOnTermination volumes are then deleted).
Status BootNewInstance(Cloud& cloud, const std::string& instance_id);

// Background halves of the API's transitions; the caller has already moved the catalog state
// (running -> stopping, stopped -> pending, * -> shutting-down).
void FinishStop(Cloud& cloud, const std::string& instance_id);
void FinishStart(Cloud& cloud, const std::string& instance_id);
void FinishTerminate(Cloud& cloud, const std::string& instance_id);

// One sweep of the guest watcher: an instance the catalog says is running whose guest has
// ended on its own (it powered off, or its init died) is settled as EC2 settles an
// instance-initiated shutdown: stopped, or terminated when its InstanceInitiatedShutdownBehavior
// says so or it is instance-store-backed (its DeleteOnTermination volumes deleted), with
// StateReason Client.InstanceInitiatedShutdown. The catalog's compare-and-set keeps a sweep from
// overriding a transition the API started meanwhile (a stop or terminate in flight is left to its
// own background half).
void SettleEndedGuests(Cloud& cloud);

// Marks an image failed (and its pending snapshots error) with a StateReason.
Status FailImage(Cloud& cloud, const std::string& image_id, const std::string& code,
                 const std::string& message);

// At Open: registers every instance that is not terminated with the runtime, settles those
// caught mid-transition (stopping -> stopped, shutting-down -> terminated) and boots again
// those the catalog says are pending or running.
//
// Instance-store-backed instances are terminated instead (TerminateLostInstance): the
// runtime drops instance-store disks whenever kilnd ends (a clean stop stops every instance;
// host recovery removes what a killed kilnd left), so their root, which was the instance, is
// gone, as on EC2 when an instance-store-backed instance's host fails. Booting a fresh copy of
// the image under the same id would silently discard what the guest did while saying it kept
// running, and would not run its user data again.
Status RecoverInstances(Cloud& cloud);

// Terminates an instance-store-backed instance whose root was lost: StateReason
// Server.InternalError, its DeleteOnTermination volumes deleted, its runtime host state removed.
void TerminateLostInstance(Cloud& cloud, const Instance& instance);

}  // namespace kiln
