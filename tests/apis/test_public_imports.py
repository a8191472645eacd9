"""The public names of mm_cyclegan.apis survive the split into weights/,
inference/ and deploy/, and training does not pull in the inference
layer."""
import subprocess
import sys

PUBLIC = ('Translator', 'ModelInfo', 'init_translator', 'load_weights',
          'LoadedWeights', 'KINDS')


def test_public_names_import_from_the_package():
    import mm_cyclegan.apis as apis
    from mm_cyclegan.apis.inference.translator import Translator
    from mm_cyclegan.apis.weights.load import load_weights
    assert sorted(apis.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(apis, name) is not None, name
    assert apis.Translator is Translator
    assert apis.load_weights is load_weights
    assert 'junyanz' in apis.KINDS


def test_training_glue_does_not_import_the_inference_layer():
    code = ('import sys, mm_cyclegan.apis.training, '
            'mm_cyclegan.apis.run_length\n'
            "print(sorted(m for m in sys.modules if m.startswith("
            "('mm_cyclegan.apis.inference', 'mm_cyclegan.apis.weights', "
            "'mm_cyclegan.apis.deploy'))))")
    out = subprocess.run([sys.executable, '-c', code], check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == '[]'
