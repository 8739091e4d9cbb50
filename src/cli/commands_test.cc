// Commands against a scripted fake of the API: what they send and what people see.
#include "cli/commands.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <deque>
#include <map>

#include "cli/progress.h"

namespace kiln::cli {
namespace {

constexpr char kNs[] = " xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"";

// Answers each action with the next of its scripted bodies (the last one repeats).
class FakeApi : public Ec2Api {
 public:
  void Script(const std::string& action, std::vector<std::string> bodies) {
    for (auto& b : bodies) script_[action].push_back(std::move(b));
  }
  Result<XmlDoc> Call(const std::string& action, const Params& params) override {
    calls.emplace_back(action, params);
    auto& q = script_[action];
    if (q.empty()) return InternalError("unscripted " + action);
    const std::string body = q.front();
    if (q.size() > 1) q.pop_front();
    return ParseEc2Answer(body.rfind("<Response>", 0) == 0 ? 400 : 200, body);
  }
  std::vector<std::pair<std::string, Params>> calls;

 private:
  std::map<std::string, std::deque<std::string>> script_;
};

std::string Instance(const std::string& state) {
  return std::string("<DescribeInstancesResponse") + kNs +
         "><reservationSet><item><instancesSet><item><instanceId>i-1</instanceId><imageId>ami-0"
         "</imageId><instanceState><name>" +
         state +
         "</name></instanceState><rootDeviceName>"
         "/dev/xvda</rootDeviceName></item></instancesSet></item></reservationSet>"
         "</DescribeInstancesResponse>";
}

std::string Image(const std::string& state, bool with_snapshot) {
  return std::string("<DescribeImagesResponse") + kNs +
         "><imagesSet><item><imageId>ami-9</imageId><name>web</name><imageState>" + state +
         "</imageState><blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs>" +
         (with_snapshot ? "<snapshotId>snap-1</snapshotId>" : "") +
         "<volumeSize>10</volumeSize></ebs></item></blockDeviceMapping></item></imagesSet>"
         "</DescribeImagesResponse>";
}

std::string Snapshot(const std::string& state, int percent) {
  return std::string("<DescribeSnapshotsResponse") + kNs +
         "><snapshotSet><item><snapshotId>snap-1</snapshotId><status>" + state +
         "</status><progress>" + std::to_string(percent) +
         "%</progress><description>Created "
         "by CreateImage(i-1) for ami-9</description></item></snapshotSet>"
         "</DescribeSnapshotsResponse>";
}

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = open_memstream(&buf_, &size_);
    ctx_.api = &api_;
    ctx_.out = out_;
    ctx_.err = out_;
    ctx_.now = [] { return int64_t{1795000000}; };
  }
  void TearDown() override { free(buf_); }
  std::string Output() {
    std::fflush(out_);
    std::string s(buf_, size_);
    std::fclose(out_);
    out_ = nullptr;
    return s;
  }
  FakeApi api_;
  Context ctx_;
  char* buf_ = nullptr;
  size_t size_ = 0;
  std::FILE* out_ = nullptr;
};

TEST_F(CommandsTest, CreateImageWaitShowsEachChangeOnce) {
  api_.Script("DescribeInstances", {Instance("running"), Instance("stopping"), Instance("stopped"),
                                    Instance("stopped"), Instance("pending"), Instance("running")});
  api_.Script("CreateImage", {"<CreateImageResponse><imageId>ami-9</imageId>"
                              "</CreateImageResponse>"});
  api_.Script("DescribeImages", {Image("pending", false), Image("pending", true),
                                 Image("pending", true), Image("available", true)});
  api_.Script("DescribeSnapshots",
              {Snapshot("pending", 0), Snapshot("pending", 40), Snapshot("completed", 100)});
  CreateImageOptions o;
  o.instance_id = "i-1";
  o.name = "web";
  o.root_size = "10";
  o.add_volumes = {"sdg:2"};
  o.wait = true;
  ASSERT_TRUE(CreateImage(ctx_, o).ok());
  const std::string out = Output();
  EXPECT_EQ(out,
            "creating image ami-9 (web) from i-1, rebooting it for a consistent image\n"
            "instance i-1: stopping\n"
            "snapshot snap-1: 0%\n"
            "image ami-9 (web): pending\n"
            "create-image: stopping the instance\n"
            "instance i-1: stopped\n"
            "snapshot snap-1 (/dev/xvda): 40%\n"
            "create-image: snapshotting volumes\n"
            "snapshot snap-1 (/dev/xvda): 100% completed\n"
            "create-image: registering the image\n"
            "instance i-1: pending\n"
            "image ami-9 (web): available\n"
            "create-image: restarting the instance\n"
            "instance i-1: running\n"
            "create-image: done\n"
            "image ami-9 is available\n"
            "launch it with `kiln launch ami-9`\n")
      << out;
  // The request: root resized on the instance's root device, the new volume added.
  const auto& create = api_.calls[1];
  ASSERT_EQ(create.first, "CreateImage");
  const Params want = {{"InstanceId", "i-1"},
                       {"Name", "web"},
                       {"BlockDeviceMapping.1.DeviceName", "/dev/xvda"},
                       {"BlockDeviceMapping.1.Ebs.VolumeSize", "10"},
                       {"BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true"},
                       {"BlockDeviceMapping.2.DeviceName", "/dev/sdg"},
                       {"BlockDeviceMapping.2.Ebs.VolumeSize", "2"},
                       {"BlockDeviceMapping.2.Ebs.DeleteOnTermination", "true"}};
  EXPECT_EQ(create.second, want);
}

TEST_F(CommandsTest, ApiErrorComesBackWithItsCode) {
  api_.Script("DescribeInstances",
              {"<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The "
               "instance ID 'i-1' does not exist</Message></Error></Errors></Response>"});
  CreateImageOptions o;
  o.instance_id = "i-1";
  o.name = "web";
  const Status s = CreateImage(ctx_, o);
  EXPECT_EQ(s.ec2_code(), "InvalidInstanceID.NotFound");
  EXPECT_EQ(Output(), "");
}

TEST_F(CommandsTest, ImagesTable) {
  api_.Script("DescribeImages",
              {std::string("<DescribeImagesResponse") + kNs +
               "><imagesSet><item><imageId>ami-1"
               "</imageId><name>b</name><imageState>available</imageState><imageOwnerId>1"
               "</imageOwnerId><imageOwnerAlias>kiln</imageOwnerAlias><creationDate>"
               "2026-11-18T09:05:00.000Z</creationDate><rootDeviceType>ebs</rootDeviceType>"
               "</item></imagesSet></DescribeImagesResponse>"});
  ASSERT_TRUE(ListImages(ctx_, {"kiln", "b*"}).ok());
  EXPECT_EQ(Output(),
            "IMAGE ID  NAME  STATE      OWNER     ROOT  SIZE  CREATED\n"
            "ami-1     b     available  kiln (1)  ebs   -     2 hours ago\n");
  const Params want = {{"Owner.1", "kiln"}, {"Filter.1.Name", "name"}, {"Filter.1.Value.1", "b*"}};
  EXPECT_EQ(api_.calls[0].second, want);
}

TEST(InterruptTest, SigintStopsWaitingWithStatus130) {
  InterruptGuard guard;
  EXPECT_TRUE(SleepUnlessInterrupted(std::chrono::milliseconds(1)));
  ::raise(SIGINT);  // caught by the guard: the test process goes on
  EXPECT_TRUE(Interrupted());
  EXPECT_FALSE(SleepUnlessInterrupted(std::chrono::seconds(30)));
  const Status s = InterruptedWaiting("watch it with `kiln images --owner self`");
  EXPECT_EQ(ExitStatusFor(s), kExitInterrupted);
  EXPECT_NE(ErrorText(s).find("kiln images --owner self"), std::string::npos);
}

}  // namespace
}  // namespace kiln::cli
