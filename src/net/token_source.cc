#include "net/token_source.h"

#include "net/http_client.h"

namespace starling::net {

void TokenSource::Apply(const std::string& credential, ClientRequest* request) const {
  request->headers.push_back({"Authorization", credential});
}

base::Status FailedTokenFetch(std::string_view who, const base::Result<ClientResponse>& response) {
  const std::string prefix = std::string(who) + ": cannot fetch token: ";
  if (!response.ok()) {
    const base::Status& e = response.error();
    if (e.code() == base::StatusCode::kCancelled) return e;
    // A timeout stays one; whatever else failed may work on a later try.
    return {
        e.code() == base::StatusCode::kDeadlineExceeded ? e.code() : base::StatusCode::kUnavailable,
        prefix + e.message()};
  }
  if (response->status < 200 || response->status > 299) {
    return base::Status::Unavailable(prefix + response->status_text +
                                     "\nResponse: " + response->body);
  }
  return base::Status::Ok();
}

}  // namespace starling::net
