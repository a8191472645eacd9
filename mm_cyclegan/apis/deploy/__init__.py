"""Take a trained model elsewhere: export (ONNX, TorchScript) and a local
web page to try it (:mod:`.serve`). Publishing slim weights is a weights
format: :func:`mm_cyclegan.apis.weights.published.publish`.
"""
