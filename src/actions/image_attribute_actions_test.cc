#include "actions/image_attribute_actions.h"

#include <gtest/gtest.h>

#include "actions/actions_testing.h"

namespace kiln {
namespace {

using actions_testing::Element;
using actions_testing::Elements;

class ImageAttributeActionsTest : public actions_testing::ActionsTest {
 protected:
  void SetUp() override {
    ActionsTest::SetUp();
    actions_ = ImageAttributeActions(catalog());
    image_ = catalog_testing::MakeImage("mine");
    image_.state = ImageState::kAvailable;
    ASSERT_TRUE(catalog().images().Insert(image_).ok());
  }
  Result<std::string> Call(const std::string& query, const Caller* caller = nullptr) {
    return actions_testing::Call(actions_, caller ? *caller : owner_, query);
  }

  std::vector<Action> actions_;
  Image image_;
};

TEST_F(ImageAttributeActionsTest, DescriptionAsPackerSetsIt) {
  Result<std::string> xml = Call("Action=ModifyImageAttribute&ImageId=" + image_.image_id +
                                 "&Description.Value=built+by+Packer");
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  EXPECT_EQ(Element(*xml, "return"), "true");
  EXPECT_EQ(catalog().images().Get(image_.image_id)->description, "built by Packer");
  ASSERT_TRUE(Call("Action=ModifyImageAttribute&ImageId=" + image_.image_id +
                   "&Attribute=description&Value=legacy")
                  .ok());
  Result<std::string> described =
      Call("Action=DescribeImageAttribute&ImageId=" + image_.image_id + "&Attribute=description");
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(Element(Element(*described, "description"), "value"), "legacy");
  EXPECT_EC2_CODE(Call("Action=ModifyImageAttribute&ImageId=" + image_.image_id +
                       "&Description.Value=" + std::string(256, 'x')),
                  "InvalidParameterValue");
  EXPECT_EC2_CODE(Call("Action=ModifyImageAttribute&ImageId=" + image_.image_id),
                  "InvalidParameterCombination");
}

TEST_F(ImageAttributeActionsTest, LaunchPermissions) {
  const std::string other = catalog_testing::kOther;
  ASSERT_TRUE(Call("Action=ModifyImageAttribute&ImageId=" + image_.image_id +
                   "&LaunchPermission.Add.1.UserId=" + other)
                  .ok());
  // Shared, not owned: the other account may not change it.
  EXPECT_EC2_CODE(
      Call("Action=ModifyImageAttribute&ImageId=" + image_.image_id + "&Description.Value=x",
           &other_),
      "AuthFailure");
  ASSERT_TRUE(Call("Action=ModifyImageAttribute&ImageId=" + image_.image_id +
                   "&Attribute=launchPermission&OperationType=add&UserGroup.1=all")
                  .ok());
  EXPECT_TRUE(catalog().images().Get(image_.image_id)->is_public);
  Result<std::string> described = Call("Action=DescribeImageAttribute&ImageId=" + image_.image_id +
                                       "&Attribute=launchPermission");
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(Elements(*described, "group"), std::vector<std::string>{"all"});
  EXPECT_EQ(Elements(*described, "userId"), std::vector<std::string>{other});
  ASSERT_TRUE(Call("Action=ModifyImageAttribute&ImageId=" + image_.image_id +
                   "&LaunchPermission.Remove.1.Group=all&LaunchPermission.Remove.2.UserId=" + other)
                  .ok());
  EXPECT_TRUE(catalog().images().ListLaunchPermissions(image_.image_id)->empty());
  EXPECT_EC2_CODE(Call("Action=ModifyImageAttribute&ImageId=" + image_.image_id +
                       "&LaunchPermission.Add.1.Group=friends"),
                  "InvalidAMIAttributeItemValue");
  EXPECT_EC2_CODE(Call("Action=ModifyImageAttribute&ImageId=" + image_.image_id +
                       "&LaunchPermission.Add.1.UserId=12"),
                  "InvalidAMIAttributeItemValue");
  // A bad item anywhere in the call changes nothing.
  EXPECT_EC2_CODE(Call("Action=ModifyImageAttribute&ImageId=" + image_.image_id +
                       "&LaunchPermission.Add.1.UserId=" + other +
                       "&LaunchPermission.Add.2.UserId=12345678901a"),
                  "InvalidAMIAttributeItemValue");
  EXPECT_TRUE(catalog().images().ListLaunchPermissions(image_.image_id)->empty());
}

TEST_F(ImageAttributeActionsTest, FlatFormAndReset) {
  const std::string other = catalog_testing::kOther;
  const std::string base = "Action=ModifyImageAttribute&ImageId=" + image_.image_id;
  EXPECT_EC2_CODE(Call(base + "&UserId.1=" + other), "MissingParameter");
  EXPECT_EC2_CODE(Call(base + "&OperationType=grant&UserId.1=" + other), "InvalidParameterValue");
  EXPECT_EC2_CODE(Call(base + "&Attribute=kernel&Value=aki-1"), "InvalidParameterValue");
  EXPECT_EC2_CODE(
      Call(base + "&LaunchPermission.Add.1.UserId=" + other + "&LaunchPermission.Add.1.Group=all"),
      "InvalidParameterCombination");
  ASSERT_TRUE(Call(base + "&Attribute=launchPermission&OperationType=add&UserId.1=" + other +
                   "&UserGroup.1=all")
                  .ok());
  EXPECT_EQ(catalog().images().ListLaunchPermissions(image_.image_id)->size(), 2u);
  // Others may not reset it; the owner's reset makes it private.
  const std::string reset =
      "Action=ResetImageAttribute&ImageId=" + image_.image_id + "&Attribute=launchPermission";
  EXPECT_EC2_CODE(Call(reset, &other_), "AuthFailure");
  EXPECT_EC2_CODE(
      Call("Action=ResetImageAttribute&ImageId=" + image_.image_id + "&Attribute=description"),
      "InvalidParameterValue");
  ASSERT_TRUE(Call(reset).ok());
  EXPECT_TRUE(catalog().images().ListLaunchPermissions(image_.image_id)->empty());
  EXPECT_FALSE(catalog().images().Get(image_.image_id)->is_public);
  EXPECT_EC2_CODE(Call(reset, &other_), "InvalidAMIID.NotFound");
}

TEST_F(ImageAttributeActionsTest, DescribeOtherAttributes) {
  const std::string base = "Action=DescribeImageAttribute&ImageId=" + image_.image_id;
  Result<std::string> codes = Call(base + "&Attribute=productCodes");
  ASSERT_TRUE(codes.ok()) << codes.status().ToString();
  EXPECT_NE(codes->find("<productCodes"), std::string::npos);
  EXPECT_EC2_CODE(Call(base + "&Attribute=blockDeviceMapping"), "AuthFailure");
}

TEST_F(ImageAttributeActionsTest, UnknownOrHiddenImages) {
  EXPECT_EC2_CODE(Call("Action=ModifyImageAttribute&ImageId=ami-0123456789abcdef0"
                       "&Description.Value=x"),
                  "InvalidAMIID.NotFound");
  EXPECT_EC2_CODE(Call("Action=ModifyImageAttribute&ImageId=nope&Description.Value=x"),
                  "InvalidAMIID.Malformed");
  EXPECT_EC2_CODE(
      Call("Action=ModifyImageAttribute&ImageId=" + image_.image_id + "&Description.Value=x",
           &other_),
      "InvalidAMIID.NotFound");
  EXPECT_EC2_CODE(
      Call("Action=DescribeImageAttribute&ImageId=" + image_.image_id + "&Attribute=bogus"),
      "InvalidParameterValue");
}

}  // namespace
}  // namespace kiln
