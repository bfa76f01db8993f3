"""One subpackage per science task: model + pre/post-processing → result, the classic baseline beside it."""
