#pragma once
// c1.connectorapi.baton.v1.BatonService as the fake serves it (c1-service-mode.md 15.2), on gRPC's
// synchronous server: every call checks the bearer token, records itself and follows the script
// and faults in the shared state.
#include <memory>

#include "c1/connectorapi/baton/v1/baton.grpc.pb.h"
#include "state.hpp"

namespace bp::fake_c1::detail {

class baton_service final : public v1::BatonService::Service {
 public:
  explicit baton_service(std::shared_ptr<state> st) : st_(std::move(st)) {}

  grpc::Status Hello(grpc::ServerContext* ctx, const v1::BatonServiceHelloRequest* req,
                     v1::BatonServiceHelloResponse* resp) override;
  grpc::Status GetTask(grpc::ServerContext* ctx, const v1::BatonServiceGetTaskRequest* req,
                       v1::BatonServiceGetTaskResponse* resp) override;
  grpc::Status GetTasks(grpc::ServerContext* ctx, const v1::BatonServiceGetTasksRequest* req,
                        v1::BatonServiceGetTasksResponse* resp) override;
  grpc::Status Heartbeat(grpc::ServerContext* ctx, const v1::BatonServiceHeartbeatRequest* req,
                         v1::BatonServiceHeartbeatResponse* resp) override;
  grpc::Status FinishTask(grpc::ServerContext* ctx, const v1::BatonServiceFinishTaskRequest* req,
                          v1::BatonServiceFinishTaskResponse* resp) override;
  grpc::Status UploadAsset(grpc::ServerContext* ctx, grpc::ServerReader<v1::BatonServiceUploadAssetRequest>* reader,
                           v1::BatonServiceUploadAssetResponse* resp) override;
  grpc::Status StartDebugging(grpc::ServerContext* ctx, const v1::StartDebuggingRequest* req,
                              v1::StartDebuggingResponse* resp) override;

 private:
  std::shared_ptr<state> st_;
};

}  // namespace bp::fake_c1::detail
