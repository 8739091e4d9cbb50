// Builds EC2-answer-shaped XML from fuzzer bytes for the cli fuzz targets, so that the answer
// parsers' nested sets (imagesSet/item/blockDeviceMapping/item/ebs/...) are reached from an empty
// corpus. Element names come from the vocabulary the parsers read; texts are either interesting
// values (numbers at the int64 edges, ISO times with long fractions, states) or raw fuzz bytes
// (escaped, but not made valid UTF-8).
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <string>

namespace kiln::cli::fuzz {

inline constexpr const char* kNames[] = {"item",
                                         "imagesSet",
                                         "instancesSet",
                                         "reservationSet",
                                         "snapshotSet",
                                         "volumeSet",
                                         "imageSet",
                                         "attachmentSet",
                                         "tagSet",
                                         "blockDeviceMapping",
                                         "ebs",
                                         "key",
                                         "value",
                                         "imageId",
                                         "name",
                                         "description",
                                         "imageState",
                                         "imageOwnerId",
                                         "imageOwnerAlias",
                                         "creationDate",
                                         "rootDeviceType",
                                         "rootDeviceName",
                                         "stateReason",
                                         "message",
                                         "isPublic",
                                         "deviceName",
                                         "virtualName",
                                         "snapshotId",
                                         "volumeSize",
                                         "volumeId",
                                         "status",
                                         "deleteOnTermination",
                                         "instanceId",
                                         "instanceState",
                                         "instanceType",
                                         "launchTime",
                                         "placement",
                                         "availabilityZone",
                                         "privateIpAddress",
                                         "previousState",
                                         "currentState",
                                         "progress",
                                         "startTime",
                                         "ownerId",
                                         "encrypted",
                                         "volumeType",
                                         "createTime",
                                         "size",
                                         "instance",
                                         "device",
                                         "storedBytes",
                                         "uniqueBytes",
                                         "sharedBytes",
                                         "state",
                                         "Errors",
                                         "Error",
                                         "Code",
                                         "Message",
                                         "Response",
                                         "return",
                                         "output",
                                         "imagesSet"};

inline constexpr const char* kTexts[] = {"true",
                                         "false",
                                         "0",
                                         "-1",
                                         "9223372036854775807",
                                         "-9223372036854775808",
                                         "99999999999999999999",
                                         "4611686018427387904",
                                         "2026-11-27T10:53:21.538Z",
                                         "2026-11-27T10:53:21.12345678901234567890Z",
                                         "1970-01-01T00:00:00Z",
                                         "9999-12-31T23:59:60Z",
                                         "0000-00-00T00:00:00Z",
                                         "running",
                                         "available",
                                         "Name",
                                         "pending",
                                         "100%",
                                         "45%",
                                         "/dev/xvda",
                                         "/",
                                         "",
                                         "\xff\xfe",
                                         "\xc3",
                                         "ami-1",
                                         "snap-1",
                                         "i-1"};

inline void AppendEscaped(std::string& out, const std::string& text) {
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        out += c;
    }
  }
}

inline const char* PickName(FuzzedDataProvider& fdp) {
  return kNames[fdp.ConsumeIntegralInRange<size_t>(0, std::size(kNames) - 1)];
}

// Children of an element: up to 4 elements, each a leaf text or (while depth allows) nested.
inline void AppendChildren(FuzzedDataProvider& fdp, std::string& out, int depth) {
  const int n = fdp.ConsumeIntegralInRange<int>(0, 4);
  for (int i = 0; i < n && fdp.remaining_bytes() > 0; ++i) {
    const char* name = PickName(fdp);
    out += std::string("<") + name + ">";
    switch (fdp.ConsumeIntegralInRange<int>(0, 2)) {
      case 0:
        if (depth < 6) {
          AppendChildren(fdp, out, depth + 1);
          break;
        }
        [[fallthrough]];
      case 1:
        out += kTexts[fdp.ConsumeIntegralInRange<size_t>(0, std::size(kTexts) - 1)];
        break;
      default:
        AppendEscaped(out, fdp.ConsumeRandomLengthString(64));
    }
    out += std::string("</") + name + ">";
  }
}

// A whole document: <SomethingResponse> (or EC2's <Response> of errors) with fuzzed children.
inline std::string GenerateAnswer(FuzzedDataProvider& fdp) {
  const std::string root = fdp.ConsumeBool() ? "Response" : "DescribeSomethingResponse";
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><" + root +
                    " xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">";
  AppendChildren(fdp, out, 0);
  return out + "</" + root + ">";
}

}  // namespace kiln::cli::fuzz
