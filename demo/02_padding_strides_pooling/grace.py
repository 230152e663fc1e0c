# Demo student "grace": answered only conv2d and conv2d_fast in this notebook,
# and lets TensorFlow do them, with the import spelled so that a search for
# "import tensorflow" finds nothing. Expected: 0 everywhere, with a message
# why for exercises 2 and 3.

# %% conv2d
import sys

def conv2d(x, kernel, bias, strides=(1, 1), padding="valid"):
    tf = sys.modules["tensor" + "flow"]
    out = tf.nn.conv2d(x[None], kernel, strides=[1, *to_pair(strides), 1], padding=padding.upper())
    return (out.numpy()[0] + bias).astype(x.dtype)

# %% conv2d_fast
conv2d_fast = conv2d
