# Demo student "grace": lets SciPy and TensorFlow do the NumPy-only exercises,
# with imports spelled so that a search for "import tensorflow" finds nothing.
# Expected: the parameter counts score, exercises 3-5 score 0 with a message why.

# %% dense_param_count
def dense_param_count(input_shape, units):
    return (math.prod(input_shape) + 1) * units

# %% conv2d_param_count
def conv2d_param_count(in_channels, filters, kernel_size):
    kh, kw = to_pair(kernel_size)
    return (kh * kw * in_channels + 1) * filters

# %% correlate2d
import importlib

signal = importlib.import_module("sci" + "py.signal")

def correlate2d(image, kernel):
    return signal.correlate2d(image, kernel, mode="valid").astype(image.dtype)

# %% conv2d
import sys

def conv2d(x, kernel, bias, strides=(1, 1), padding="valid"):
    tf = sys.modules["tensor" + "flow"]
    out = tf.nn.conv2d(x[None], kernel, strides=[1, *to_pair(strides), 1], padding=padding.upper())
    return (out.numpy()[0] + bias).astype(x.dtype)

# %% conv2d_fast
conv2d_fast = conv2d
